package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/billing"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/store"
)

// BenchmarkMeter measures the meter's throughput: decided exams charged
// per second through Handle, in batches of 100 as the feeds deliver them.
func BenchmarkMeter(b *testing.B) {
	for _, a := range adapters {
		b.Run(a.name, func(b *testing.B) {
			st := a.open(b)
			clinic := putClinic(b, st, directory.Clinic{ID: "clinic_bench", Timezone: "America/Chicago"})
			at := time.Date(2025, 3, 3, 15, 0, 0, 0, time.UTC)
			m := billing.Meter{Ledger: newLedger(st, clock.NewFake(at)), Clinics: directory.Directory{Store: st}}
			changes := make([]store.Change, b.N)
			for i := range b.N {
				changes[i] = change("c"+examID(i), "", decided(examID(i), clinic.ID, exam.Approved, at.Add(time.Duration(i)*time.Second)))
			}
			b.ResetTimer()
			for start := 0; start < b.N; start += 100 {
				if err := m.Handle(context.Background(), changes[start:min(start+100, b.N)]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
