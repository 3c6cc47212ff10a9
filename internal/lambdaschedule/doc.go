// Package lambdaschedule runs the periodic jobs of the app — the claim-lease
// and SLA sweep, the re-drive of webhook deliveries whose queue job was
// lost, the monthly close — in Lambda
// functions invoked by EventBridge Scheduler, as app.RunSchedules and
// app.RunIntegrations run them on a ticker on one machine.
//
// A schedule (template.yaml) invokes its function asynchronously with an
// EventBridge "Scheduled Event" document it builds from Scheduler's context
// attributes (testdata/events/eventbridge-scheduled.json is one). Handler
// checks that it is one, runs the job once and answers a Result; a job's
// error is the invocation's error, so that Lambda retries the event as the
// function's asynchronous invocation configuration says, then sends it to the
// function's dead-letter queue, and the errors alarm fires. Every job is
// idempotent, so a retried or overlapping run changes nothing twice; a run
// that fails is also simply repeated by the next tick.
package lambdaschedule
