// Package rules answers, for a US state, a treatment category and a date,
// who may perform the good-faith exam, in which modality, and what an
// asynchronous exam must include. The answers come from a versioned data
// file (data/rules.json), each state entry citing its sources; a state whose
// law is not encoded takes the strictest default.
package rules
