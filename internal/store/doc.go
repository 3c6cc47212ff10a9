// Package store is the storage port: one single-table key-value model with
// conditional writes, transactions, three secondary indexes and a change feed.
//
// Every adapter (DynamoDB in AWS, bbolt on one machine) gives the same
// semantics, held by the conformance suite in package storetest. Domain code
// keeps its records as JSON documents in Item.Data and chooses the keys; the
// store knows nothing of exams or clinics.
package store
