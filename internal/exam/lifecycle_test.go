package exam

import (
	"errors"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestLifecycleTable(t *testing.T) {
	all := []Status{Draft, Submitted, Queued, Claimed, InConsult, Decided, Cancelled, Expired}
	allowed := map[[2]Status]bool{
		{Draft, Submitted}: true, {Draft, Cancelled}: true,
		{Submitted, Queued}: true, {Submitted, Cancelled}: true,
		{Queued, Claimed}: true, {Queued, Cancelled}: true, {Queued, Expired}: true,
		{Claimed, Queued}: true, {Claimed, InConsult}: true, {Claimed, Decided}: true, {Claimed, Cancelled}: true,
		{InConsult, Decided}: true, {InConsult, Claimed}: true,
	}
	for _, from := range all {
		for _, to := range all {
			got := CanMove(from, to)
			if got != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s: allowed=%v", from, to, got)
			}
			_, err := Exam{Status: from}.move(to, "x", t0)
			if got && err != nil || !got && !errors.Is(err, fault.ErrConflict) {
				t.Errorf("%s → %s: move err=%v", from, to, err)
			}
		}
	}
	for _, s := range []Status{Decided, Cancelled, Expired} {
		if !s.Final() {
			t.Errorf("%s must be final", s)
		}
	}
}

func TestAsyncPath(t *testing.T) {
	e := Exam{ID: "exam_1", Status: Draft}
	steps := []func(Exam) (Exam, error){
		func(e Exam) (Exam, error) { return e.Submit("patient", t0) },
		func(e Exam) (Exam, error) { return e.Enqueue("router", t0) },
		func(e Exam) (Exam, error) { return e.Claim("prov_a", t0) },
		func(e Exam) (Exam, error) { return e.Decide(Decision{Outcome: Approved, DecidedBy: "prov_a"}, t0) },
	}
	for i, step := range steps {
		var err error
		if e, err = step(e); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if e.Status != Decided || e.Outcome != Approved || len(e.History) != 4 || e.ProviderID != "prov_a" {
		t.Fatalf("end = %+v", e)
	}
}

func TestConflicts(t *testing.T) {
	claimed, _ := Exam{Status: Queued}.Claim("prov_a", t0)
	if _, err := claimed.Claim("prov_b", t0); !isConflict(err, "already_claimed") {
		t.Errorf("second claim: %v", err)
	}
	if _, err := claimed.Release("prov_b", t0); !isConflict(err, "not_claimed") {
		t.Errorf("release by non-holder: %v", err)
	}
	if _, err := claimed.Decide(Decision{Outcome: Approved, DecidedBy: "prov_b"}, t0); !isConflict(err, "not_claimed") {
		t.Errorf("decide by non-holder: %v", err)
	}
	decided, err := claimed.Decide(Decision{Outcome: Denied, DecidedBy: "prov_a", Reason: "x"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decided.Decide(Decision{Outcome: Approved, DecidedBy: "prov_a"}, t0); !isConflict(err, "already_decided") {
		t.Errorf("second decision: %v", err)
	}
	if _, err := decided.Cancel("patient", t0); !isConflict(err, "already_decided") {
		t.Errorf("cancel decided: %v", err)
	}
	released, err := claimed.Release("prov_a", t0)
	if err != nil || released.Status != Queued || released.ProviderID != "" {
		t.Errorf("release: %+v %v", released, err)
	}
	if len(claimed.History) != 1 {
		t.Errorf("a failed transition must not change the original: %d", len(claimed.History))
	}
}

func TestBillable(t *testing.T) {
	for o, want := range map[Outcome]bool{Approved: true, Deferred: true, Denied: true, NotApplicable: false} {
		if o.Billable() != want {
			t.Errorf("%s billable=%v", o, !want)
		}
	}
}

func isConflict(err error, code string) bool {
	var fe *fault.Error
	return errors.As(err, &fe) && fe.Kind == fault.ErrConflict && fe.Code == code
}
