package directory

import (
	"context"
	"encoding/json"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Providers lists every provider, by id (the dev sign-in page's picker).
func (d Directory) Providers(ctx context.Context) ([]Provider, error) {
	var out []Provider
	q := store.Query{Index: store.ByGSI1, PK: "PROVIDERS"}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var p Provider
			if err := json.Unmarshal(it.Data, &p); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}
