// Package dynamo is the DynamoDB adapter of the storage port (package
// store): a single table with three global secondary indexes, conditional
// writes as condition expressions, transactions as TransactWriteItems, and
// the change feed read from DynamoDB Streams.
//
// # Table schema
//
// template.yaml must create the table exactly so (CreateTable does the same
// for tests and local tooling):
//
//	KeySchema:             pk (HASH), sk (RANGE)
//	AttributeDefinitions:  pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk,
//	                       gsi3pk, gsi3sk — all S
//	GlobalSecondaryIndexes:
//	  gsi1: gsi1pk (HASH), gsi1sk (RANGE), Projection ALL
//	  gsi2: gsi2pk (HASH), gsi2sk (RANGE), Projection ALL
//	  gsi3: gsi3pk (HASH), gsi3sk (RANGE), Projection ALL
//	BillingMode:           PAY_PER_REQUEST
//	StreamSpecification:   StreamViewType NEW_AND_OLD_IMAGES
//	TimeToLiveSpecification: AttributeName ttl, Enabled true
//
// An item (store.Item) is stored as these attributes:
//
//	pk, sk          S  Item.PK, Item.SK (both must be non-empty)
//	gsi1pk, gsi1sk  S  Item.GSI1PK, Item.GSI1SK, each left out when empty
//	gsi2pk, gsi2sk  S  Item.GSI2PK, Item.GSI2SK, each left out when empty
//	gsi3pk, gsi3sk  S  Item.GSI3PK, Item.GSI3SK, each left out when empty
//	v               N  Item.Version
//	ttl             N  Item.ExpiresAt in Unix seconds, left out when zero
//	data            B  Item.Data, left out when empty
//
// Index keys are sparse: an item without GSI1PK has no gsi1pk attribute and
// so is not in gsi1 (likewise GSI2 and GSI3). DynamoDB lists an item in an
// index only when it has both of the index's key attributes and cannot
// store an empty one, so a write setting an index's partition key but not
// its sort key (GSI1PK without GSI1SK, and so on) is refused, as the
// embedded adapter refuses it. ExpiresAt keeps whole
// seconds (the fraction is dropped) and reads back in UTC. DynamoDB deletes
// expired items within a few days of their expiry; readers check
// Item.Expired as the port asks.
//
// # Change feed
//
// Store.Consume polls the table's stream: DescribeTable for the latest
// stream, DescribeStream for its shards, GetShardIterator and GetRecords for
// each shard, parents before children. A change's ID is the stream record's
// sequence number, which is the same in every delivery and for every
// consumer. Each consumer's position is kept in the same table as items
// with pk "CHECKPOINT#<consumer>" and sk "<shard id>" (Data holds the JSON
// {"seq": …, "done": …}); domain keys never start with "CHECKPOINT#", the
// Store methods refuse to write such keys, Scan leaves them out and the
// feed never delivers their changes. Checkpoints carry a ttl a week ahead,
// so those of shards the stream has dropped expire.
//
// In AWS a Lambda function subscribed to the stream can feed the same
// handlers: ChangesFromEvent turns its events.DynamoDBEvent into changes.
//
// DynamoDB Streams writes no record for a write that leaves the item exactly
// as it was, for example a Put of an identical item; versioned writes always
// change v, so they always reach the feed.
package dynamo
