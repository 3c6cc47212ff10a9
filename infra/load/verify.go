package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/goodfaith/goodfaith/internal/jwk"
	"github.com/goodfaith/goodfaith/internal/pso"
)

// Verification is the end state of a run, checked against the server.
type Verification struct {
	Exams         int      `json:"exams"`          // exams the run created
	Submitted     int      `json:"submitted"`      // of which submitted
	Final         int      `json:"final"`          // submitted and now decided or cancelled on the server
	NotFinal      []string `json:"not_final"`      // submitted, not final: lost
	Mismatched    []string `json:"mismatched"`     // server's outcome differs from the decision the run got
	Billable      int      `json:"billable"`       // decided approved/deferred/denied
	UsageDelta    int      `json:"usage_delta"`    // GET /v1/clinic/usage count after − before, summed over clinics
	UsageMissing  []string `json:"usage_missing"`  // billable exams absent from usage
	UsageDupes    []string `json:"usage_dupes"`    // exams charged more than once
	UsageNotOwed  []string `json:"usage_not_owed"` // our exams charged though not billable
	PSOs          int      `json:"psos"`
	PSOsValid     int      `json:"psos_valid"`
	PSOProblems   []string `json:"pso_problems"`
	UsageWaitedMS int64    `json:"usage_waited_ms"`
}

// OK is whether nothing was lost, duplicated or invalid.
func (v Verification) OK() bool {
	return len(v.NotFinal) == 0 && len(v.Mismatched) == 0 && v.UsageDelta == v.Billable && len(v.UsageMissing) == 0 &&
		len(v.UsageDupes) == 0 && len(v.UsageNotOwed) == 0 && v.PSOs == v.PSOsValid && len(v.PSOProblems) == 0
}

type usage struct {
	Count int `json:"count"`
	Items []struct {
		ExamID string `json:"exam_id"`
	} `json:"items"`
}

func (r *run) usage(ctx context.Context, sk string) (usage, error) {
	var u usage
	resp, err := r.c.call(ctx, "GET /v1/clinic/usage (verify)", "GET", "/v1/clinic/usage?month="+time.Now().UTC().Format("2006-01"),
		map[string]string{"Authorization": "Bearer " + sk}, nil, 200)
	if err != nil {
		return u, err
	}
	return u, resp.decode(&u)
}

// usageBefore records each clinic's count before the run.
func (r *run) usageBefore(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, cl := range r.cfg.Clinics {
		u, err := r.usage(ctx, cl.SK)
		if err != nil {
			return nil, err
		}
		out[cl.SK] = u.Count
	}
	return out, nil
}

// verify checks the end state: every submitted exam final with the outcome
// the provider got, usage = billable decided exams (each once; the meter is
// asynchronous, so it waits up to wait for it), every PSO valid offline
// against the JWKS.
func (r *run) verify(ctx context.Context, before map[string]int, wait time.Duration) (Verification, error) {
	var v Verification
	r.mu.Lock()
	exams := make([]examRecord, 0, len(r.exams))
	for _, e := range r.exams {
		exams = append(exams, *e)
	}
	r.mu.Unlock()
	v.Exams = len(exams)
	billable := map[string]map[string]bool{} // sk → exam ids
	ours := map[string]bool{}
	for _, e := range exams {
		ours[e.ID] = true
		if !e.Submitted {
			continue
		}
		v.Submitted++
		resp, err := r.c.call(ctx, "GET /v1/clinic/exams/{id} (verify)", "GET", "/v1/clinic/exams/"+e.ID,
			map[string]string{"Authorization": "Bearer " + e.SK}, nil, 200)
		if err != nil {
			return v, err
		}
		var got struct {
			Exam struct {
				Status  string `json:"status"`
				Outcome string `json:"outcome"`
			} `json:"exam"`
		}
		if err := resp.decode(&got); err != nil {
			return v, err
		}
		switch got.Exam.Status {
		case "decided", "cancelled":
			v.Final++
		default:
			v.NotFinal = append(v.NotFinal, e.ID+" is "+got.Exam.Status)
			continue
		}
		if got.Exam.Status == "cancelled" && (!e.Cancelled || e.Outcome != "") || got.Exam.Status == "decided" && got.Exam.Outcome != e.Outcome {
			v.Mismatched = append(v.Mismatched, fmt.Sprintf("%s: server %s/%s, run cancelled=%v outcome=%q", e.ID, got.Exam.Status, got.Exam.Outcome, e.Cancelled, e.Outcome))
		}
		if got.Exam.Status == "decided" && (got.Exam.Outcome == "approved" || got.Exam.Outcome == "deferred" || got.Exam.Outcome == "denied") {
			v.Billable++
			if billable[e.SK] == nil {
				billable[e.SK] = map[string]bool{}
			}
			billable[e.SK][e.ID] = true
		}
	}

	// Usage: the meter consumes the change feed; wait for it to catch up.
	start := time.Now()
	for {
		v.UsageDelta, v.UsageMissing, v.UsageDupes, v.UsageNotOwed = 0, nil, nil, nil
		for _, cl := range r.cfg.Clinics {
			u, err := r.usage(ctx, cl.SK)
			if err != nil {
				return v, err
			}
			v.UsageDelta += u.Count - before[cl.SK]
			seen := map[string]int{}
			for _, it := range u.Items {
				seen[it.ExamID]++
			}
			for id, n := range seen {
				if n > 1 {
					v.UsageDupes = append(v.UsageDupes, id)
				}
				if ours[id] && !billable[cl.SK][id] {
					v.UsageNotOwed = append(v.UsageNotOwed, id)
				}
			}
			for id := range billable[cl.SK] {
				if seen[id] == 0 {
					v.UsageMissing = append(v.UsageMissing, id)
				}
			}
		}
		if v.UsageDelta == v.Billable && len(v.UsageMissing) == 0 || time.Since(start) > wait {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	v.UsageWaitedMS = time.Since(start).Milliseconds()

	// PSOs, offline: one JWKS fetch, then each JWS checked locally.
	resp, err := r.c.call(ctx, "GET /.well-known/jwks.json", "GET", "/.well-known/jwks.json", nil, nil, 200)
	if err != nil {
		return v, err
	}
	var keys jwk.Set
	if err := json.Unmarshal(resp.body, &keys); err != nil {
		return v, err
	}
	now := time.Now()
	for _, e := range exams {
		if e.Outcome != "approved" {
			continue
		}
		v.PSOs++
		if e.JWS == "" {
			v.PSOProblems = append(v.PSOProblems, e.ID+": approved without a PSO in the response")
			continue
		}
		if sha256Hex(e.JWS) != e.SHA256 {
			v.PSOProblems = append(v.PSOProblems, e.ID+": sha256 is not the JWS's")
			continue
		}
		res := pso.Verify(e.JWS, keys, now)
		if !res.Valid {
			v.PSOProblems = append(v.PSOProblems, e.ID+": "+res.Reason)
			continue
		}
		if res.Doc.ExamID != e.ID {
			v.PSOProblems = append(v.PSOProblems, e.ID+": PSO names exam "+res.Doc.ExamID)
			continue
		}
		v.PSOsValid++
	}
	return v, nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
