// Package localhome is Goodfaith's one-machine home: the adapters of the
// local server (go run ./infra/local), the load tool and the end-to-end
// tests — the embedded store (bbolt), a blob directory, a key file created
// on first run, the outbox notifier — and the local signaling endpoint.
//
// It is a package of its own so that the Lambda functions, which build
// the AWS home (app.Build), do not link the embedded store, the blob
// directory or the WebSocket server: every package a function links is
// initialized in its cold start.
package localhome
