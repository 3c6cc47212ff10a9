// Package questionnaire holds the medical-history questionnaires, one per
// treatment category, shaped like a subset of the FHIR R4 Questionnaire, and
// checks a patient's answers against them: types, enableWhen, required
// items, and the contraindication flags that answers raise for the provider.
//
// Items with the same linkId in several questionnaires are one question: a
// patient asked for two treatments answers "pregnant" once.
package questionnaire
