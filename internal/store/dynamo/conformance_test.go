package dynamo_test

import (
	"testing"

	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/dynamotest"
	"github.com/goodfaith/goodfaith/internal/store/storetest"
)

// TestConformance runs the storage port's conformance suite against
// DynamoDB Local, one fresh table per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, store.ChangeFeed) {
		s := open(t)
		return s, dynamotest.Feed(t, s)
	})
}
