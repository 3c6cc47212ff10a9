// Command psoverify checks Patient-Specific Orders offline: a compact JWS
// or a PSO's PDF (which carries the JWS as the attachment pso.jws) against
// a JWKS file or URL, and optionally a revocation list, without trusting
// the service that issued them.
//
//	go run ./infra/psoverify -jwks https://app.example.com/.well-known/jwks.json \
//	    [-revocations https://app.example.com/v1/psos/revocations] [-at 2027-01-31] [-json] FILE...
//
// FILE is a .jws or .pdf file, or - for standard input. For each file it
// prints VALID with the order's id, clinic, prescriber and validity, or
// INVALID with the reason: malformed, unknown_key, key_mismatch,
// payload_altered, bad_signature, wrong_issuer, unknown_schema, expired or
// revoked. The exit status is 0 when every file is valid, 1 when one is
// not, 2 when the files or keys could not be read.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/pso"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// maxInput bounds every file and download (a PSO PDF is tens of KiB).
const maxInput = 8 << 20

// result is one file's outcome, as -json prints it.
type result struct {
	File       string     `json:"file"`
	Valid      bool       `json:"valid"`
	Reason     string     `json:"reason,omitempty"`
	ID         string     `json:"id,omitempty"`
	ExamID     string     `json:"exam_id,omitempty"`
	Clinic     string     `json:"clinic,omitempty"`
	Prescriber string     `json:"prescriber,omitempty"`
	ValidUntil string     `json:"valid_until,omitempty"`
	KeyID      string     `json:"kid,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("psoverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jwksSrc := fs.String("jwks", "", "JWKS of the PSO signing keys: a file or an http(s) URL (required)")
	revSrc := fs.String("revocations", "", "revocation list ({\"revoked\":[{\"id\",\"revoked_at\"}]}): a file or an http(s) URL")
	at := fs.String("at", "", "check validity on this date (YYYY-MM-DD) instead of today")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: psoverify -jwks FILE|URL [-revocations FILE|URL] [-at YYYY-MM-DD] [-json] FILE.jws|FILE.pdf|- ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *jwksSrc == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	now := time.Now().UTC()
	if *at != "" {
		d, err := time.Parse(time.DateOnly, *at)
		if err != nil {
			fmt.Fprintf(stderr, "psoverify: -at %q is not a YYYY-MM-DD date\n", *at)
			return 2
		}
		now = d
	}
	ctx := context.Background()
	raw, err := load(ctx, *jwksSrc)
	if err != nil {
		fmt.Fprintf(stderr, "psoverify: JWKS: %v\n", err)
		return 2
	}
	var keys jwk.Set
	if err := json.Unmarshal(raw, &keys); err != nil || len(keys.Keys) == 0 {
		fmt.Fprintf(stderr, "psoverify: JWKS: %s holds no JSON Web Key Set\n", *jwksSrc)
		return 2
	}
	var revoked pso.RevocationList
	if *revSrc != "" {
		if revoked, err = loadRevocations(ctx, *revSrc); err != nil {
			fmt.Fprintf(stderr, "psoverify: revocations: %v\n", err)
			return 2
		}
	}
	status := 0
	for _, name := range fs.Args() {
		var body []byte
		if name == "-" {
			body, err = io.ReadAll(io.LimitReader(stdin, maxInput))
		} else {
			body, err = readFile(name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "psoverify: %v\n", err)
			return 2
		}
		r := check(name, body, keys, revoked, now)
		if !r.Valid {
			status = 1
		}
		print(stdout, r, *asJSON)
	}
	return status
}

// check verifies one file's order.
func check(name string, body []byte, keys jwk.Set, revoked pso.RevocationList, now time.Time) result {
	jws := strings.TrimSpace(string(body))
	if bytes.HasPrefix(body, []byte("%PDF-")) {
		var err error
		if jws, err = pso.ExtractJWS(body); err != nil {
			return result{File: name, Reason: pso.ReasonMalformed}
		}
	}
	v := pso.Verify(jws, keys, now)
	v = v.Check(revoked.Lookup(v.Doc.ID))
	r := result{File: name, Valid: v.Valid, Reason: v.Reason, KeyID: v.KeyID}
	if d := v.Doc; d.ID != "" {
		r.ID, r.ExamID, r.Clinic, r.ValidUntil = d.ID, d.ExamID, d.Clinic.Name, d.ValidUntil
		r.Prescriber = d.Provider.Name + ", " + d.Provider.Credential + " (" + d.Provider.LicenseState + " " + d.Provider.LicenseNumber + ")"
	}
	if v.Revocation != nil {
		r.RevokedAt = &v.Revocation.RevokedAt
	}
	return r
}

func print(w io.Writer, r result, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(r)
		return
	}
	if r.Valid {
		fmt.Fprintf(w, "%s: VALID %s (exam %s), clinic %s, prescriber %s, valid until %s, key %s\n", r.File, r.ID, r.ExamID, r.Clinic, r.Prescriber, r.ValidUntil, r.KeyID)
		return
	}
	line := fmt.Sprintf("%s: INVALID %s", r.File, r.Reason)
	if r.ID != "" {
		line += " (" + r.ID + ")"
	}
	if r.RevokedAt != nil {
		line += " revoked at " + r.RevokedAt.Format(time.RFC3339)
	}
	fmt.Fprintln(w, line)
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err == nil && len(b) > maxInput {
		err = fmt.Errorf("%s is larger than %d bytes", name, maxInput)
	}
	return b, err
}

// load reads a file, or GETs an http(s) URL.
func load(ctx context.Context, src string) ([]byte, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return readFile(src)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxInput+1))
	if err == nil && len(b) > maxInput {
		err = errors.New("the answer is too large")
	}
	return b, err
}

// loadRevocations reads a revocation list, following next_cursor pages of
// the service's GET /v1/psos/revocations.
func loadRevocations(ctx context.Context, src string) (pso.RevocationList, error) {
	out := pso.RevocationList{}
	next := src
	for page := 0; next != "" && page < 1000; page++ {
		raw, err := load(ctx, next)
		if err != nil {
			return out, err
		}
		var body struct {
			Revoked    []pso.RevokedEntry `json:"revoked"`
			NextCursor string             `json:"next_cursor"`
		}
		if err := json.Unmarshal(raw, &body); err != nil || body.Revoked == nil {
			return out, fmt.Errorf("%s holds no revocation list", src)
		}
		out.Revoked = append(out.Revoked, body.Revoked...)
		next = ""
		if body.NextCursor != "" {
			u, err := url.Parse(src)
			if err != nil || u.Scheme == "" {
				break // a file has no pages
			}
			q := u.Query()
			q.Set("cursor", body.NextCursor)
			u.RawQuery = q.Encode()
			next = u.String()
		}
	}
	return out, nil
}
