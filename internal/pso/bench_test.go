package pso

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner"
	"github.com/goodfaith/goodfaith/internal/signer/kmssigner/kmstest"
)

// benchIssue signs, renders and stores one PSO per iteration (JWS and PDF
// written once to a blob directory, the index committed to bbolt).
func benchIssue(b *testing.B, s signer.Signer) {
	st, blobs := newStore(b), newBlobs(b)
	is := Issuer{Signer: s, Blobs: blobs.Store, Store: st, VerifyBaseURL: "https://app.example.com/v1/psos/"}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		doc := testDoc()
		doc.ID, doc.ExamID = fmt.Sprintf("pso_b%d", i), fmt.Sprintf("exam_b%d", i)
		_, ops, err := is.Issue(ctx, doc, "clinic_a")
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Transact(ctx, ops...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "psos/s")
}

func BenchmarkIssueLocalKey(b *testing.B) { benchIssue(b, newFileKey(b)) }

// BenchmarkIssueKMS signs through the real KMS client against the loopback
// KMS endpoint: one HTTP round trip per signature, no network latency.
func BenchmarkIssueKMS(b *testing.B) {
	srv := kmstest.Start(b)
	s, err := kmssigner.New(context.Background(), srv.Client(), srv.CreateKey(b))
	if err != nil {
		b.Fatal(err)
	}
	benchIssue(b, s)
}

func BenchmarkRenderPDF(b *testing.B) {
	in := pdfInput()
	for b.Loop() {
		if _, err := RenderPDF(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key := newFileKey(b)
	jws, err := sign(context.Background(), key, normalize(testDoc()))
	if err != nil {
		b.Fatal(err)
	}
	keys := signer.Keyring{Current: key}.JWKS()
	at := issued.Add(time.Hour)
	for b.Loop() {
		if v := Verify(jws, keys, at); !v.Valid {
			b.Fatal(v.Reason)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}
