package notify

// Delivery chooses the channels whose messages leave the outbox through a
// delivery service, and as whom (the AWS home's SES and SNS,
// awsnotify.Senders). Zero: every message stays in the outbox.
type Delivery struct {
	EmailFrom    string // empty: email stays in the outbox
	SESConfigSet string
	SMS          bool // false: SMS stays in the outbox
	SMSSenderID  string
}
