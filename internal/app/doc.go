// Package app assembles Goodfaith from its ports: the one place that knows
// which adapters exist. The local server, the Lambda functions and the
// end-to-end tests all build the same handlers and consumers here, so
// behaviour does not depend on where it runs.
package app
