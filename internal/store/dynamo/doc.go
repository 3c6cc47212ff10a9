// Package dynamo is the DynamoDB adapter of the storage port (package
// store): a single table with three global secondary indexes, conditional
// writes as condition expressions, and transactions as TransactWriteItems.
// Its change feed, read from DynamoDB Streams, is package streamfeed.
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
// The table's stream carries every write. In AWS a Lambda function
// subscribed to it feeds the handlers: ChangesFromEvent turns its
// events.DynamoDBEvent into changes. Tools and tests read the stream
// through package streamfeed, which keeps each consumer's position in the
// same table as items with pk "CHECKPOINT#<consumer>" (CheckpointPrefix)
// and sk "<shard id>"; domain keys never start with "CHECKPOINT#", the
// Store methods but PutCheckpoint refuse to write such keys, Scan leaves
// them out and ChangesFromEvent leaves out their changes. The package is
// apart so that the functions, which never read the Streams API, do not
// link and initialize its client.
//
// DynamoDB Streams writes no record for a write that leaves the item exactly
// as it was, for example a Put of an identical item; versioned writes always
// change v, so they always reach the feed.
package dynamo
