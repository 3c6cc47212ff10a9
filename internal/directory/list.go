package directory

import (
	"context"
	"encoding/json"

	"github.com/goodfaith/goodfaith/internal/store"
)

// Clinics lists every clinic, by id (for jobs that run per clinic, such as
// the monthly billing close).
func (d Directory) Clinics(ctx context.Context) ([]Clinic, error) {
	var out []Clinic
	q := store.Query{Index: store.ByGSI1, PK: "CLINICS"}
	for {
		page, err := d.Store.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var c Clinic
			if err := json.Unmarshal(it.Data, &c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if page.Cursor == "" {
			return out, nil
		}
		q.Cursor = page.Cursor
	}
}
