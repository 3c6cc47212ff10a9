package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"

	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/auth"
)

// TestDirectorCreditsOverHTTP: a medical director credits a clinic they
// direct, with a reason; the usage and the statement show it and reconcile
// to the cent; the credit is audited; other directors and clinics cannot.
func TestDirectorCreditsOverHTTP(t *testing.T) {
	forEachHome(t, func(t *testing.T, open func(testing.TB, bool) *env) {
		e := open(t, true)
		clinicC := bearer(skC)
		tokC := e.directorToken("md_c")
		mdC, mdD := bearer(tokC), bearer(e.directorToken("md_d"))
		e.attest(tokC, "neurotoxin", "anaphylaxis_kit", "escalation_plan")
		const path = "/v1/director/clinics/clinic_c/credits"

		examID := e.queuedAt(pkC, false)
		e.decide(examID, map[string]any{"outcome": "deferred", "reason": "needs a dermatology consult first"}, 200)
		var usage map[string]any
		eventually(t, "metering", func() bool {
			usage = e.must(200, e.do("GET", "/v1/clinic/usage", clinicC, nil)).json(t)
			return usage["count"].(float64) >= 1
		})
		month := usage["month"].(string)
		price := int64(usage["amount_cents"].(float64))
		if usage["count"].(float64) != 1 || price <= 0 {
			t.Fatalf("usage = %v", usage)
		}

		// Refused: no reason, bad amounts, a foreign exam, another clinic's
		// director, no director at all. None posts anything.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"amount_cents": 500}, "reason"},
			{map[string]any{"amount_cents": 500, "reason": "   "}, "reason"},
			{map[string]any{"amount_cents": 0, "reason": "x"}, "amount_cents"},
			{map[string]any{"amount_cents": -5, "reason": "x"}, "amount_cents"},
			{map[string]any{"amount_cents": 500, "reason": "x", "exam_id": "exm_nosuchexam"}, "exam_id"},
		} {
			if f := e.must(422, e.do("POST", path, mdC, c.body)).errorField(t); f != c.field {
				t.Fatalf("%v: field %q", c.body, f)
			}
		}
		good := map[string]any{"exam_id": examID, "amount_cents": 500, "reason": "video dropped twice; goodwill"}
		e.must(404, e.do("POST", path, mdD, good))
		e.must(404, e.do("POST", "/v1/director/clinics/clinic_nope/credits", mdC, good))
		e.must(401, e.do("POST", path, nil, good))
		e.must(401, e.do("POST", path, clinicC, good)) // a clinic cannot credit itself
		if u := e.must(200, e.do("GET", "/v1/clinic/usage", clinicC, nil)).json(t); len(u["adjustments"].([]any)) != 0 || int64(u["amount_cents"].(float64)) != price {
			t.Fatalf("a refused credit posted: %v", u)
		}

		// Granted, once per Idempotency-Key.
		key := hdr{"Authorization": mdC["Authorization"], "Idempotency-Key": "credit-1"}
		adj := e.must(201, e.do("POST", path, key, good)).json(t)["adjustment"].(map[string]any)
		again := e.must(201, e.do("POST", path, key, good)).json(t)["adjustment"].(map[string]any)
		if adj["id"] != again["id"] || adj["amount_cents"].(float64) != -500 || adj["exam_id"] != examID ||
			adj["by"] != "md_c" || adj["reason"] != good["reason"] || adj["month"] != month || adj["clinic_id"] != "clinic_c" {
			t.Fatalf("adjustment = %v, replay = %v", adj, again)
		}
		e.must(201, e.do("POST", path, mdC, map[string]any{"amount_cents": 250, "reason": "onboarding discount"}))

		// Usage and statement reflect both credits and reconcile.
		usage = e.must(200, e.do("GET", "/v1/clinic/usage?month="+month, clinicC, nil)).json(t)
		want := price - 750
		adjs := usage["adjustments"].([]any)
		if int64(usage["amount_cents"].(float64)) != want || usage["count"].(float64) != 1 || len(adjs) != 2 {
			t.Fatalf("usage after credits = %v", usage)
		}
		var sum int64
		for _, it := range usage["items"].([]any) {
			sum += int64(it.(map[string]any)["amount_cents"].(float64))
		}
		for _, a := range adjs {
			sum += int64(a.(map[string]any)["amount_cents"].(float64))
		}
		if sum != want {
			t.Fatalf("usage lines sum to %d, total %d", sum, want)
		}
		st := e.must(200, e.do("GET", "/v1/clinic/statements/"+month+".csv", clinicC, nil))
		rows, err := csv.NewReader(bytes.NewReader(st.Body)).ReadAll()
		if err != nil || len(rows) != 5 {
			t.Fatalf("statement: %v\n%s", err, st.Body)
		}
		var csvSum int64
		credits := 0
		for _, r := range rows[1:4] {
			n, err := strconv.ParseInt(r[len(r)-1], 10, 64)
			if err != nil {
				t.Fatalf("row %q: %v", r, err)
			}
			csvSum += n
			if r[3] == "credit" {
				credits++
			}
		}
		total := rows[4]
		if total[0] != "total" || total[len(total)-1] != strconv.FormatInt(want, 10) || csvSum != want || credits != 2 {
			t.Fatalf("statement rows = %q", rows)
		}
		if !bytes.Contains(st.Body, []byte("video dropped twice; goodwill")) {
			t.Fatalf("statement lacks the credit's reason:\n%s", st.Body)
		}

		// Audited: by whom, for which exam or clinic.
		ctx := context.Background()
		for subject, n := range map[string]int{examID: 1, "CLINIC#clinic_c": 1} {
			recs, err := audit.ForExam(ctx, e.Store, subject)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, r := range recs {
				if r.Action == "billing.credit" && r.Actor == "md_c" && r.Role == string(auth.RoleDirector) {
					got++
				}
			}
			if got != n {
				t.Fatalf("%s: %d credit audit records in %v", subject, got, recs)
			}
		}
		// Another clinic's ledger is untouched.
		if d := e.must(200, e.do("GET", "/v1/clinic/usage", bearer(skD), nil)).json(t); len(d["adjustments"].([]any)) != 0 || d["amount_cents"].(float64) != 0 {
			t.Fatalf("clinic D usage = %v", d)
		}
	})
}
