// Package cost turns the calls a load run made into the AWS cost of one
// exam, at the dated us-east-1 prices of prices-us-east-1.json.
//
// The counts come from a run against the AWS home on loopback services
// (DynamoDB Local's ReturnConsumedCapacity, the S3 operations the SDK sent,
// the signer's signs) and from the load tool (API requests, Lambda handler
// durations measured in process). Nothing here is estimated from a guess:
// a count the run did not measure is zero, and the report says so.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

//go:embed prices-us-east-1.json
var pricesJSON []byte

// Price is one published unit price.
type Price struct {
	USD      float64 `json:"usd"`
	Unit     string  `json:"unit"`
	Source   string  `json:"source"`
	AWSPage  string  `json:"aws_page"`
	Conflict string  `json:"conflict,omitempty"`
}

// Prices is the dated price file.
type Prices struct {
	Region    string           `json:"region"`
	Seen      string           `json:"seen"`
	Note      string           `json:"note"`
	Prices    map[string]Price `json:"prices"`
	NotPriced []string         `json:"not_priced"`
}

// Names of the prices the model uses.
const (
	APIGatewayHTTPRequest = "apigw_http_request"
	LambdaRequest         = "lambda_request"
	LambdaArmGBSecond     = "lambda_arm_gb_second"
	DynamoDBWriteUnit     = "dynamodb_write_request_unit"
	DynamoDBReadUnit      = "dynamodb_read_request_unit"
	S3Tier1Request        = "s3_tier1_request"
	S3Tier2Request        = "s3_tier2_request"
	S3StandardGBMonth     = "s3_standard_gb_month"
	KMSAsymmetricRequest  = "kms_asymmetric_request"
	KMSSymmetricRequest   = "kms_symmetric_request"
)

var required = []string{APIGatewayHTTPRequest, LambdaRequest, LambdaArmGBSecond, DynamoDBWriteUnit, DynamoDBReadUnit,
	S3Tier1Request, S3Tier2Request, S3StandardGBMonth, KMSAsymmetricRequest, KMSSymmetricRequest}

// LoadPrices returns the embedded price file, checked: every price the
// model uses is present, positive and cites a source and a date.
func LoadPrices() (Prices, error) { return ParsePrices(pricesJSON) }

// ParsePrices decodes and checks a price file.
func ParsePrices(raw []byte) (Prices, error) {
	var p Prices
	if err := json.Unmarshal(raw, &p); err != nil {
		return Prices{}, fmt.Errorf("cost: prices: %w", err)
	}
	if p.Region != "us-east-1" {
		return Prices{}, fmt.Errorf("cost: prices are for %q, want us-east-1", p.Region)
	}
	if _, err := time.Parse(time.DateOnly, p.Seen); err != nil {
		return Prices{}, fmt.Errorf("cost: prices: seen date %q: %w", p.Seen, err)
	}
	for _, name := range required {
		pr, ok := p.Prices[name]
		switch {
		case !ok:
			return Prices{}, fmt.Errorf("cost: prices: %s missing", name)
		case !(pr.USD > 0):
			return Prices{}, fmt.Errorf("cost: prices: %s is not positive", name)
		case pr.Source == "" || pr.AWSPage == "" || pr.Unit == "":
			return Prices{}, fmt.Errorf("cost: prices: %s lacks unit, source or aws_page", name)
		}
	}
	return p, nil
}

// Usage is what a run consumed.
type Usage struct {
	Exams int // exams taken to a decision in the run (the divisor)

	APIRequests       int64   // API Gateway HTTP API requests (every API call; presigned uploads go to S3)
	LambdaInvocations int64   // API handlers plus stream-consumer batches
	LambdaGBSeconds   float64 // Σ memory(GB) × duration rounded up to 1 ms
	DynamoDBReadUnits float64 // consumed read capacity units (on demand: read request units)
	DynamoDBWriteUnit float64 // consumed write capacity units (on demand: write request units)
	S3Tier1           int64   // PUT, COPY, POST, LIST (incl. presigned uploads)
	S3Tier2           int64   // GET, HEAD
	KMSSigns          int64   // asymmetric Sign calls (one per PSO)
	KMSSymmetric      int64   // SSE-KMS data-key calls (zero with S3 bucket keys)
	StoredBytes       int64   // bytes written to object storage (kept under retention)
	RetentionMonths   int     // how long stored bytes are kept
}

// Line is one priced item.
type Line struct {
	Name     string
	Quantity float64
	Price    Price
	USD      float64 // whole run
	PerExam  float64
}

// Estimate is the cost of a run.
type Estimate struct {
	Lines        []Line
	TotalUSD     float64
	PerExamUSD   float64
	Exams        int
	ChargedCents int
}

// Compute prices u.
func Compute(p Prices, u Usage, chargedCents int) (Estimate, error) {
	if u.Exams <= 0 {
		return Estimate{}, fmt.Errorf("cost: no decided exams to divide by")
	}
	items := []struct {
		name string
		q    float64
	}{
		{APIGatewayHTTPRequest, float64(u.APIRequests)},
		{LambdaRequest, float64(u.LambdaInvocations)},
		{LambdaArmGBSecond, u.LambdaGBSeconds},
		{DynamoDBReadUnit, u.DynamoDBReadUnits},
		{DynamoDBWriteUnit, u.DynamoDBWriteUnit},
		{S3Tier1Request, float64(u.S3Tier1)},
		{S3Tier2Request, float64(u.S3Tier2)},
		{KMSAsymmetricRequest, float64(u.KMSSigns)},
		{KMSSymmetricRequest, float64(u.KMSSymmetric)},
		{S3StandardGBMonth, float64(u.StoredBytes) / 1e9 * float64(u.RetentionMonths)},
	}
	e := Estimate{Exams: u.Exams, ChargedCents: chargedCents}
	for _, it := range items {
		pr, ok := p.Prices[it.name]
		if !ok {
			return Estimate{}, fmt.Errorf("cost: price %s missing", it.name)
		}
		usd := it.q * pr.USD
		e.Lines = append(e.Lines, Line{Name: it.name, Quantity: it.q, Price: pr, USD: usd, PerExam: usd / float64(u.Exams)})
		e.TotalUSD += usd
	}
	e.PerExamUSD = e.TotalUSD / float64(u.Exams)
	return e, nil
}

// GBSeconds is the billed compute of one invocation: memory × duration
// rounded up to the millisecond.
func GBSeconds(memoryMB int, d time.Duration) float64 {
	ms := math.Ceil(float64(d) / float64(time.Millisecond))
	return float64(memoryMB) / 1024 * ms / 1000
}

// Print writes the estimate as a table, biggest line first.
func (e Estimate) Print(w io.Writer, p Prices) {
	lines := append([]Line(nil), e.Lines...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].USD > lines[j].USD })
	fmt.Fprintf(w, "cost per exam at us-east-1 prices seen %s (%d decided exams)\n", p.Seen, e.Exams)
	fmt.Fprintf(w, "  %-28s %14s %12s %14s\n", "item", "quantity/exam", "unit $", "$/exam")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-28s %14.3f %12.10f %14.8f\n", l.Name, l.Quantity/float64(e.Exams), l.Price.USD, l.PerExam)
	}
	charged := float64(e.ChargedCents) / 100
	fmt.Fprintf(w, "  %-28s %14s %12s %14.8f   (charged $%.2f; infra = %.5f%% of the price)\n", "TOTAL", "", "", e.PerExamUSD, charged, 100*e.PerExamUSD/charged)
	fmt.Fprintf(w, "  not priced: %d items, see internal/cost/prices-us-east-1.json\n", len(p.NotPriced))
}
