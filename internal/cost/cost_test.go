package cost

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPricesFileIsCompleteAndSourced(t *testing.T) {
	p, err := LoadPrices()
	if err != nil {
		t.Fatal(err)
	}
	for name, pr := range p.Prices {
		if !strings.HasPrefix(pr.Source, "https://") || !strings.HasPrefix(pr.AWSPage, "https://aws.amazon.com/") {
			t.Errorf("%s: source %q / aws_page %q", name, pr.Source, pr.AWSPage)
		}
	}
	if len(p.NotPriced) == 0 {
		t.Error("the file must say what it does not price")
	}
}

func TestParsePricesRefusesGaps(t *testing.T) {
	for name, raw := range map[string]string{
		"region":  `{"region":"eu-west-1","seen":"2026-11-22","prices":{}}`,
		"date":    `{"region":"us-east-1","seen":"soon","prices":{}}`,
		"missing": `{"region":"us-east-1","seen":"2026-11-22","prices":{}}`,
	} {
		if _, err := ParsePrices([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestComputeByHand(t *testing.T) {
	p, err := LoadPrices()
	if err != nil {
		t.Fatal(err)
	}
	u := Usage{Exams: 2, APIRequests: 20, LambdaInvocations: 22, LambdaGBSeconds: 0.5, DynamoDBReadUnits: 40, DynamoDBWriteUnit: 30,
		S3Tier1: 6, S3Tier2: 2, KMSSigns: 2, StoredBytes: 1e9, RetentionMonths: 1}
	e, err := Compute(p, u, 2799)
	if err != nil {
		t.Fatal(err)
	}
	want := 20*0.000001 + 22*0.0000002 + 0.5*0.0000133334 + 40*0.000000125 + 30*0.000000625 + 6*0.000005 + 2*0.0000004 + 2*0.000015 + 1*0.023
	if math.Abs(e.TotalUSD-want) > 1e-12 || math.Abs(e.PerExamUSD-want/2) > 1e-12 {
		t.Fatalf("total %.10f per exam %.10f, want %.10f", e.TotalUSD, e.PerExamUSD, want)
	}
	if _, err := Compute(p, Usage{}, 2799); err == nil {
		t.Fatal("no exams: want an error")
	}
}

func TestGBSecondsRoundsUpToTheMillisecond(t *testing.T) {
	if got := GBSeconds(256, 1001*time.Microsecond); math.Abs(got-0.25*0.002) > 1e-15 {
		t.Fatalf("256 MB × 1.001 ms = %v GB-s, want 0.0005", got)
	}
}
