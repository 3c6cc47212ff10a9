// Package streamfeed is the change feed (store.ChangeFeed) of a
// dynamo.Store's table, read from DynamoDB Streams, for the tools and tests
// that run the stream consumers in their own process; in AWS a Lambda
// function subscribed to the stream feeds them (dynamo.ChangesFromEvent).
//
// Feed.Consume polls the table's stream: DescribeTable for the latest
// stream, DescribeStream for its shards, GetShardIterator and GetRecords
// for each shard, parents before children. A change's ID is the stream
// record's sequence number, which is the same in every delivery and for
// every consumer. Each consumer's position is kept in the same table as
// items with pk "CHECKPOINT#<consumer>" (dynamo.CheckpointPrefix) and sk
// "<shard id>" (Data holds the JSON {"seq": …, "done": …}), written with
// dynamo.Store.PutCheckpoint. Checkpoints carry a ttl a week ahead, so those
// of shards the stream has dropped expire. The feed never delivers the
// changes of checkpoint items. Package dynamo says which writes reach the
// stream.
package streamfeed
