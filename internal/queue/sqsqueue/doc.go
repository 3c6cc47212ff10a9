// Package sqsqueue is the Amazon SQS adapter of the queue port, speaking
// SQS's query protocol (form-encoded POSTs, XML answers, API version
// 2012-11-05) signed with the SDK's SigV4 signer.
//
// Why not aws-sdk-go-v2/service/sqs: every release since v1.27.0 (November
// 2023) speaks only the AWS JSON 1.0 protocol, which the test server
// (ElasticMQ 0.7.1, infra/testenv/elasticmq.sh) does not understand, and the
// last query-protocol release, v1.26.0, compiles against our SDK core
// (v1.47) but fails every call at run time ("not found:
// ComputePayloadHash": the core's payload-hash middleware now inserts
// itself after the Finalize step's ResolveEndpointV2, which that 2023
// client registers in the Serialize step). SQS itself still accepts the
// query protocol, so this small client is the same code in AWS and in
// tests. It implements only the four calls the port needs, plus
// CreateQueue for tests and tools.
package sqsqueue
