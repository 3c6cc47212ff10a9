// Package app assembles Goodfaith from its ports, and opens the AWS home
// (Build, from the Lambda environment; OpenAWS); package localhome opens
// the one-machine home. The local server, the Lambda functions and the
// end-to-end tests all build the same handlers and consumers here, so
// behaviour does not depend on where it runs.
package app
