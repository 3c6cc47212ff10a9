package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableActiveTimeout bounds how long CreateTable waits for the table and
// its indexes to become active.
const tableActiveTimeout = 5 * time.Minute

// CreateTable creates the table with the schema in the package
// documentation (on-demand billing, the three indexes, a NEW_AND_OLD_IMAGES
// stream, TTL on "ttl") and waits until it is active. If the table exists
// it checks that its keys, indexes and stream match, and enables TTL if it
// is off. Production creates the table from template.yaml instead; tests
// and the local tooling use this.
func CreateTable(ctx context.Context, db *dynamodb.Client, table string) error {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, pk, sk string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName:  aws.String(name),
			KeySchema:  keys(pk, sk),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			s(attrPK), s(attrSK), s(attrGSI1PK), s(attrGSI1SK), s(attrGSI2PK), s(attrGSI2SK), s(attrGSI3PK), s(attrGSI3SK),
		},
		KeySchema: keys(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(gsi1Name, attrGSI1PK, attrGSI1SK),
			gsi(gsi2Name, attrGSI2PK, attrGSI2SK),
			gsi(gsi3Name, attrGSI3PK, attrGSI3SK),
		},
		BillingMode: types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamo: create table %q: %w", table, err)
	}
	desc, err := waitActive(ctx, db, table)
	if err != nil {
		return err
	}
	if err := checkSchema(desc); err != nil {
		return fmt.Errorf("dynamo: table %q exists with another schema: %w", table, err)
	}
	return enableTTL(ctx, db, table)
}

// waitActive polls until the table and all its indexes are ACTIVE.
func waitActive(ctx context.Context, db *dynamodb.Client, table string) (*types.TableDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, tableActiveTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return nil, fmt.Errorf("dynamo: describe table %q: %w", table, err)
		}
		if active(out.Table) {
			return out.Table, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("dynamo: table %q is not active: %w", table, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// checkSchema reports how an existing table differs from what the adapter
// needs.
func checkSchema(t *types.TableDescription) error {
	sameKeys := func(got []types.KeySchemaElement, pk, sk string) bool {
		if len(got) != 2 {
			return false
		}
		for _, k := range got {
			switch {
			case k.KeyType == types.KeyTypeHash && aws.ToString(k.AttributeName) == pk:
			case k.KeyType == types.KeyTypeRange && aws.ToString(k.AttributeName) == sk:
			default:
				return false
			}
		}
		return true
	}
	if !sameKeys(t.KeySchema, attrPK, attrSK) {
		return fmt.Errorf("primary key is not (%s, %s)", attrPK, attrSK)
	}
	for _, want := range []struct{ name, pk, sk string }{
		{gsi1Name, attrGSI1PK, attrGSI1SK},
		{gsi2Name, attrGSI2PK, attrGSI2SK},
		{gsi3Name, attrGSI3PK, attrGSI3SK},
	} {
		found := false
		for _, g := range t.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) != want.name {
				continue
			}
			found = true
			if !sameKeys(g.KeySchema, want.pk, want.sk) {
				return fmt.Errorf("index %s key is not (%s, %s)", want.name, want.pk, want.sk)
			}
			if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
				return fmt.Errorf("index %s does not project ALL attributes", want.name)
			}
		}
		if !found {
			return fmt.Errorf("index %s is missing", want.name)
		}
	}
	ss := t.StreamSpecification
	if ss == nil || !aws.ToBool(ss.StreamEnabled) || ss.StreamViewType != types.StreamViewTypeNewAndOldImages {
		return errors.New("stream is not enabled with NEW_AND_OLD_IMAGES")
	}
	return nil
}

// enableTTL turns on TTL on the "ttl" attribute unless it is on already.
func enableTTL(ctx context.Context, db *dynamodb.Client, table string) error {
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamo: describe TTL of %q: %w", table, err)
	}
	if d := out.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if aws.ToString(d.AttributeName) != attrTTL {
				return fmt.Errorf("dynamo: table %q has TTL on %q, want %q", table, aws.ToString(d.AttributeName), attrTTL)
			}
			return nil
		}
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: enable TTL on %q: %w", table, err)
	}
	return nil
}
