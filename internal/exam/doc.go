// Package exam is the good-faith exam: its record, its lifecycle as a pure
// state machine (lifecycle.go), and the use cases that patients, providers
// and clinics drive through the API (service.go).
//
// Every change of an exam is a compare-and-set on its version, committed in
// one transaction with its audit record (and, on approval, its PSO index), so
// a stale, duplicate or concurrent change fails with a conflict and writes
// nothing.
package exam
