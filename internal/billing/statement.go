package billing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
)

// Statement is a clinic's month as the ledger holds it.
type Statement struct {
	ClinicID string
	Month    Month
	Status   string // open | closed
	Lines    []Line // usage and credits, in time order
	// UsageCount is the number of usage lines; AmountCents the sum of every
	// line (credits negative).
	UsageCount  int64
	AmountCents int64
	Location    *time.Location
}

// Usage returns the lines of usage (not credits).
func (s Statement) Usage() []Line {
	out := []Line{}
	for _, l := range s.Lines {
		if l.Kind == KindUsage {
			out = append(out, l)
		}
	}
	return out
}

// Credits returns the credit lines.
func (s Statement) Credits() []Line {
	out := []Line{}
	for _, l := range s.Lines {
		if l.Kind == KindCredit {
			out = append(out, l)
		}
	}
	return out
}

// Statement reads a clinic's month and checks it reconciles: the lines add
// up to the month record's totals, and a closed month still hashes to the
// statement its close froze.
func (l Ledger) Statement(ctx context.Context, c directory.Clinic, m Month) (Statement, error) {
	for range maxAttempts {
		rec, err := l.Month(ctx, c.ID, m)
		if err != nil {
			return Statement{}, err
		}
		lines, err := l.Lines(ctx, c.ID, m)
		if err != nil {
			return Statement{}, err
		}
		st := build(c, m, rec.Status, lines)
		if st.UsageCount != rec.UsageCount || st.AmountCents != rec.AmountCents || int64(len(lines)) != rec.LineCount {
			if rec.Closed() {
				return Statement{}, fmt.Errorf("%w: %s %s holds %d lines for %d¢, its record %d for %d¢", ErrLedgerMismatch, c.ID, m, len(lines), st.AmountCents, rec.LineCount, rec.AmountCents)
			}
			continue // a post committed between the two reads
		}
		if rec.Closed() && st.SHA256() != rec.StatementSHA256 {
			return Statement{}, fmt.Errorf("%w: the statement of %s %s differs from the one frozen at close", ErrLedgerMismatch, c.ID, m)
		}
		return st, nil
	}
	return Statement{}, ErrContention
}

func build(c directory.Clinic, m Month, status string, lines []Line) Statement {
	st := Statement{ClinicID: c.ID, Month: m, Status: status, Lines: lines, Location: Location(c.Timezone)}
	for _, l := range lines {
		st.AmountCents += l.AmountCents
		if l.Kind == KindUsage {
			st.UsageCount++
		}
	}
	return st
}

// CSVHeader is the first line of every statement.
var CSVHeader = []string{"exam_id", "decided_at", "local_date", "outcome", "note", "amount_cents"}

// CSV renders the statement as RFC 4180 text (CRLF line ends): the header,
// one line per ledger line (an exam, or a credit whose first column is its
// adj_ id and whose outcome column reads "credit"), and a last line whose
// first column is "total" and last column the sum in cents.
func (s Statement) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(CSVHeader) // a bytes.Buffer does not fail
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, l := range s.Lines {
		outcome, note := l.Outcome, ""
		if l.Kind == KindCredit {
			outcome, note = "credit", cell(l.Reason)
		}
		if l.Late() {
			note = joinNote(note, fmt.Sprintf("decided in %s, after that month closed", l.OriginalMonth))
		}
		_ = w.Write([]string{l.ID, l.At.UTC().Format(time.RFC3339), l.At.In(loc).Format(time.DateOnly), outcome, note, strconv.FormatInt(l.AmountCents, 10)})
	}
	summary := plural(int(s.UsageCount), "exam")
	if n := len(s.Lines) - int(s.UsageCount); n > 0 {
		summary += ", " + plural(n, "credit")
	}
	_ = w.Write([]string{"total", "", "", "", summary, strconv.FormatInt(s.AmountCents, 10)})
	w.Flush()
	return buf.Bytes()
}

// SHA256 is the hex SHA-256 of the CSV.
func (s Statement) SHA256() string {
	sum := sha256.Sum256(s.CSV())
	return hex.EncodeToString(sum[:])
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// cell defuses text a spreadsheet would run as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
