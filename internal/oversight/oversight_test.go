package oversight

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/catalog"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/exam"
	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/ids"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/questionnaire"
	"github.com/goodfaith/goodfaith/internal/rules"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

type fixture struct {
	svc   *Service
	st    store.Store
	clk   *clock.Fake
	sent  *[]notify.Message
	md    Actor
	other Actor
}

type recorder struct{ sent *[]notify.Message }

func (r recorder) Notify(_ context.Context, m notify.Message) error {
	*r.sent = append(*r.sent, m)
	return nil
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC))
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := directory.Directory{Store: st}
	ctx := context.Background()
	for _, c := range []directory.Clinic{
		{ID: "clinic_c", Name: "Clinic C", Treatments: []string{"neurotoxin", "dermal_filler", "glp1"}},
		{ID: "clinic_d", Name: "Clinic D", Treatments: []string{"neurotoxin"}},
		{ID: "clinic_none", Name: "No MD", Treatments: []string{"neurotoxin"}},
	} {
		if err := dir.PutClinic(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []directory.MedicalDirector{
		{ID: "md_c", Name: "Dr C", Credential: "MD", Clinics: []string{"clinic_c"}},
		{ID: "md_d", Name: "Dr D", Credential: "DO", Clinics: []string{"clinic_d"}},
	} {
		if err := dir.PutDirector(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var sent []notify.Message
	svc := &Service{Store: st, Directory: dir, Catalog: catalog.Default(), Readiness: DefaultRequirements(), Rules: rules.Default(),
		Notifier: recorder{&sent}, Clock: clk, IDs: ids.Random{}}
	return fixture{svc: svc, st: st, clk: clk, sent: &sent, md: Actor{"md_c", RoleDirector}, other: Actor{"md_d", RoleDirector}}
}

func code(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return fmt.Sprint(err)
}

func TestSamplingShareAndFlags(t *testing.T) {
	for _, pct := range []float64{10, 25, 1} {
		sampled, flaggedSampled := 0, 0
		const n = 1000
		for i := range n {
			id := fmt.Sprintf("exam_%026d", i*7919)
			flagged := i%37 == 0
			if Sampled(id, flagged, pct) {
				if flagged {
					flaggedSampled++
				} else {
					sampled++
				}
			} else if flagged {
				t.Fatalf("flagged exam %s not sampled", id)
			}
			if Sampled(id, flagged, pct) != Sampled(id, flagged, pct) {
				t.Fatal("sampling is not deterministic")
			}
		}
		unflagged := n - (n+36)/37
		share := float64(sampled) / float64(unflagged)
		// Binomial: 4 standard deviations is a tolerance a correct sampler
		// essentially never exceeds, and a wrong share (e.g. 2x) always does.
		tol := 4 * math.Sqrt(pct/100*(1-pct/100)/float64(unflagged))
		if math.Abs(share-pct/100) > tol {
			t.Errorf("%v%%: sampled share %.3f outside %.3f±%.3f", pct, share, pct/100, tol)
		}
	}
	if Sampled("exam_x", false, 100) != true {
		t.Error("100% must sample everything")
	}
}

func TestReadinessExpiryWithInjectedClock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// No attestation: the treatment is not offered and an exam is refused.
	err := f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader)
	if code(err) != "treatment_not_ready" || !strings.Contains(err.Error(), "not attested") {
		t.Fatalf("missing attestation: %v", err)
	}
	// A clinic without a director is not blocked.
	if err := f.svc.CheckTreatments(ctx, "clinic_none", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader); err != nil {
		t.Fatalf("clinic without director: %v", err)
	}
	// Incomplete attestations are refused and write nothing.
	_, err = f.svc.Attest(ctx, f.md, "clinic_c", "dermal_filler", AttestInput{Items: map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true, "vascular_occlusion_protocol": true}, LastDrillOn: "2026-10-01"})
	if code(err) != "readiness_item_missing" || !strings.Contains(err.Error(), "items.hyaluronidase_on_hand") {
		t.Fatalf("missing hyaluronidase: %v", err)
	}
	_, err = f.svc.Attest(ctx, f.md, "clinic_c", "neurotoxin", AttestInput{Items: map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, LastDrillOn: "2025-01-01"})
	if code(err) != "drill_out_of_date" {
		t.Fatalf("old drill: %v", err)
	}
	a, err := f.svc.Attest(ctx, f.md, "clinic_c", "neurotoxin", AttestInput{Items: map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, LastDrillOn: "2026-10-15"})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 11, 1, 15, 0, 0, 0, time.UTC); !a.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want the default 12 months: %v", a.ExpiresAt, want)
	}
	if err := f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader); err != nil {
		t.Fatalf("attested: %v", err)
	}
	offered, _ := f.svc.OfferedTreatments(ctx, "clinic_c", []string{"neurotoxin", "dermal_filler", "glp1"}, f.clk.Now())
	if fmt.Sprint(offered) != "[neurotoxin]" {
		t.Fatalf("offered %v", offered)
	}
	// A second before expiry it stands; at expiry it does not.
	f.clk.Set(a.ExpiresAt.Add(-time.Second))
	if err := f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	f.clk.Set(a.ExpiresAt)
	err = f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader)
	if code(err) != "treatment_not_ready" || !strings.Contains(err.Error(), "expired on 2027-11-01") {
		t.Fatalf("expired: %v", err)
	}
	rs, _ := f.svc.ReadinessOf(ctx, "clinic_c", f.clk.Now())
	if rs[0].Status != ExpiredAtt || rs[0].Offered {
		t.Fatalf("readiness %+v", rs[0])
	}
}

func order(treatment, product, dose, route string) exam.Order {
	return exam.Order{Treatment: treatment, Product: product, Dose: dose, Route: route, Areas: []string{"glabella"}, Refills: 0, ValidDays: 180}
}

func TestReviewOrdersCatalogue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clk.Now()
	cases := []struct {
		o    exam.Order
		code string
	}{
		{order("neurotoxin", "Snake oil toxin", "20 units", "IM"), "product_unknown"},
		{order("neurotoxin", "Botulax", "20 units", "IM"), "product_not_approved"},
		{order("neurotoxin", "Wegovy", "20 units", "IM"), "product_wrong_treatment"},
		{order("glp1", "compounded semaglutide", "0.25 mg", "SC"), "product_not_enabled"},
		{order("glp1", "semaglutide", "0.25 mg", "SC"), "product_ambiguous"},
		{order("neurotoxin", "Botox", "20 units", "IV"), "route_not_labelled"},
	}
	for _, c := range cases {
		if _, err := f.svc.ReviewOrders(ctx, "clinic_c", []exam.Order{c.o}, now); code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.o.Product, err, c.code)
		}
	}
	r, err := f.svc.ReviewOrders(ctx, "clinic_c", []exam.Order{order("neurotoxin", "Botox (onabotulinumtoxinA)", "20 units", "IM")}, now)
	if err != nil || r.Products[0].ID != "onabotulinumtoxina_botox_cosmetic" || r.Products[0].FDAStatus != "approved_biologic" || len(r.Protocols) != 0 {
		t.Fatalf("approved product: %+v %v", r, err)
	}
	// Disabled by the director: refused. Unapproved cannot be enabled.
	if _, err := f.svc.SetProduct(ctx, f.md, "clinic_c", "onabotulinumtoxina_botox_cosmetic", SetProductInput{Enabled: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ReviewOrders(ctx, "clinic_c", []exam.Order{order("neurotoxin", "Botox", "20 units", "IM")}, now); code(err) != "product_not_enabled" {
		t.Fatalf("disabled: %v", err)
	}
	// Another clinic's formulary is its own.
	if _, err := f.svc.ReviewOrders(ctx, "clinic_d", []exam.Order{order("neurotoxin", "Botox", "20 units", "IM")}, now); err != nil {
		t.Fatalf("clinic_d: %v", err)
	}
	if _, err := f.svc.SetProduct(ctx, f.md, "clinic_c", "bpc_157", SetProductInput{Enabled: true}); code(err) != "product_not_approved" {
		t.Fatalf("enable BPC-157: %v", err)
	}
	// Compounded needs the acknowledgement, then shows as compounded.
	if _, err := f.svc.SetProduct(ctx, f.md, "clinic_c", "semaglutide_compounded_503a", SetProductInput{Enabled: true}); code(err) != "compounded_acknowledgement_required" {
		t.Fatalf("compounded without ack: %v", err)
	}
	if _, err := f.svc.SetProduct(ctx, f.md, "clinic_c", "semaglutide_compounded_503a", SetProductInput{Enabled: true, AcknowledgeCompounded: true}); err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.ReviewOrders(ctx, "clinic_c", []exam.Order{order("glp1", "compounded semaglutide", "0.25 mg", "SC")}, now)
	if err != nil || r.Products[0].FDAStatus != "compounded_503a" {
		t.Fatalf("compounded enabled: %+v %v", r, err)
	}
}

func TestProtocolVersions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := ProtocolInput{Treatment: "neurotoxin", Title: "Glabellar lines", Text: "Assess, consent, 20 units in 5 sites.",
		StandingOrder: StandingOrder{Product: "onabotulinumtoxina_botox_cosmetic", Dose: "20 units", Route: "IM", Areas: []string{"glabella"}, ValidDays: 180}}
	v1, err := f.svc.CreateProtocol(ctx, f.md, "clinic_c", in)
	if err != nil || v1.Version != 1 || v1.Signature != nil {
		t.Fatalf("v1: %+v %v", v1, err)
	}
	botox := []exam.Order{order("neurotoxin", "Botox", "20 units", "IM")}
	// Unsigned: not in force.
	if r, _ := f.svc.ReviewOrders(ctx, "clinic_c", botox, f.clk.Now()); len(r.Protocols) != 0 {
		t.Fatalf("unsigned protocol cited: %+v", r.Protocols)
	}
	if _, err := f.svc.SignProtocol(ctx, f.md, "clinic_c", "neurotoxin", 1, SignInput{Accepted: false, Name: "Dr C"}); code(err) != "signature_required" {
		t.Fatal(err)
	}
	if _, err := f.svc.SignProtocol(ctx, f.md, "clinic_c", "neurotoxin", 1, SignInput{Accepted: true, Name: "Dr C"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignProtocol(ctx, f.md, "clinic_c", "neurotoxin", 1, SignInput{Accepted: true, Name: "Dr C"}); code(err) != "already_signed" {
		t.Fatalf("second signature: %v", err)
	}
	r, _ := f.svc.ReviewOrders(ctx, "clinic_c", botox, f.clk.Now())
	if len(r.Protocols) != 1 || r.Protocols[0].Version != 1 || len(r.Protocols[0].Deviations) != 0 || r.Protocols[0].SignedBy != "md_c" {
		t.Fatalf("v1 in force: %+v", r.Protocols)
	}
	// v2 written, not signed: v1 stays in force. A deviation is recorded.
	in.StandingOrder.Dose = "24 units"
	f.clk.Advance(time.Hour)
	if v2, err := f.svc.CreateProtocol(ctx, f.md, "clinic_c", in); err != nil || v2.Version != 2 {
		t.Fatalf("v2: %+v %v", v2, err)
	}
	r, _ = f.svc.ReviewOrders(ctx, "clinic_c", botox, f.clk.Now())
	if r.Protocols[0].Version != 1 {
		t.Fatalf("unsigned v2 in force: %+v", r.Protocols)
	}
	if _, err := f.svc.SignProtocol(ctx, f.md, "clinic_c", "neurotoxin", 2, SignInput{Accepted: true, Name: "Dr C", SHA256: strings.Repeat("0", 64)}); code(err) != "content_changed" {
		t.Fatalf("wrong hash: %v", err)
	}
	if _, err := f.svc.SignProtocol(ctx, f.md, "clinic_c", "neurotoxin", 2, SignInput{Accepted: true, Name: "Dr C"}); err != nil {
		t.Fatal(err)
	}
	r, _ = f.svc.ReviewOrders(ctx, "clinic_c", botox, f.clk.Now())
	if r.Protocols[0].Version != 2 || len(r.Protocols[0].Deviations) != 1 || !strings.Contains(r.Protocols[0].Deviations[0], `dose: protocol "24 units", ordered "20 units"`) {
		t.Fatalf("v2 with deviation: %+v", r.Protocols)
	}
	// A standing order must name an orderable catalogue product of the treatment.
	bad := in
	bad.StandingOrder.Product = "bpc_157"
	if _, err := f.svc.CreateProtocol(ctx, f.md, "clinic_c", bad); code(err) != "product_wrong_treatment" {
		t.Fatalf("bad standing order: %v", err)
	}
}

func TestAdverseEventCSVNeutralisesFormulas(t *testing.T) {
	csv := string(AdverseEventsCSV([]AdverseEvent{{ID: "ae_1", Description: "=HYPERLINK(\"x\")", Actions: "+1", OccurredAt: time.Unix(0, 0).UTC(), RecordedAt: time.Unix(0, 0).UTC()}}))
	if !strings.Contains(csv, `'=HYPERLINK`) || !strings.Contains(csv, ",'+1,") || !strings.HasPrefix(csv, "id,clinic_id,exam_id") {
		t.Fatalf("csv:\n%s", csv)
	}
}

func TestReadinessRevocationAndUncoveredItems(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := AttestInput{Items: map[string]bool{"anaphylaxis_kit": true, "escalation_plan": true}, LastDrillOn: "2026-10-15"}
	if _, err := f.svc.RevokeAttestation(ctx, f.md, "clinic_c", "neurotoxin", RevokeInput{Reason: "x"}); code(err) != "attestation_not_found" {
		t.Fatalf("revoke with nothing attested: %v", err)
	}
	if _, err := f.svc.Attest(ctx, f.md, "clinic_c", "neurotoxin", in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RevokeAttestation(ctx, f.md, "clinic_c", "neurotoxin", RevokeInput{Reason: "  "}); code(err) != "required" {
		t.Fatalf("revoke without a reason: %v", err)
	}
	a, err := f.svc.RevokeAttestation(ctx, f.md, "clinic_c", "neurotoxin", RevokeInput{Reason: "kit used"})
	if err != nil || a.Revoked == nil || a.Revoked.By != "md_c" {
		t.Fatalf("revoke: %+v %v", a, err)
	}
	err = f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != "treatment_not_ready" || !strings.Contains(fe.Message, "revoked") || !strings.Contains(fe.Message, "kit used") ||
		fmt.Sprint(fe.Details["missing_items"]) != "[anaphylaxis_kit escalation_plan]" || fe.Details["treatment"] != "neurotoxin" {
		t.Fatalf("after revocation: %#v", err)
	}
	// A patient reads neither the director's free-text reason nor the
	// clinic's readiness items: only that the treatment is not offered now.
	err = f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.PatientReader)
	if !errors.As(err, &fe) || fe.Code != "treatment_not_ready" || fe.Field != "treatments[0]" || fe.Details["treatment"] != "neurotoxin" ||
		fe.Message != "This clinic cannot offer "+f.svc.Rules.CategoryName("neurotoxin")+" online right now." || fe.Details["missing_items"] != nil || fe.Details["readiness"] != nil {
		t.Fatalf("patient's refusal after revocation: %#v", err)
	}
	if _, err := f.svc.RevokeAttestation(ctx, f.md, "clinic_c", "neurotoxin", RevokeInput{Reason: "again"}); code(err) != "attestation_not_in_force" {
		t.Fatalf("second revocation: %v", err)
	}
	// A new attestation restores the treatment.
	f.clk.Advance(time.Minute)
	if _, err := f.svc.Attest(ctx, f.md, "clinic_c", "neurotoxin", in); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader); err != nil {
		t.Fatalf("attested again: %v", err)
	}
	// When the requirements grow, an attestation that does not cover the new
	// item no longer suffices, and the item is named.
	f.svc.Readiness.Treatments["neurotoxin"] = append(f.svc.Readiness.Treatments["neurotoxin"], "vascular_occlusion_protocol")
	err = f.svc.CheckTreatments(ctx, "clinic_c", []string{"neurotoxin"}, f.clk.Now(), exam.StaffReader)
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "does not cover: Written vascular-occlusion protocol") || fmt.Sprint(fe.Details["missing_items"]) != "[vascular_occlusion_protocol]" {
		t.Fatalf("uncovered item: %v", err)
	}
}

// TestQueueOverThousandDecidedExams builds the review queue over 1,000
// stored decided exams of two providers (every 37th flagged): the sampled
// share of unflagged exams is within tolerance, every flagged exam is in the
// queue, and charts unreviewed ReviewDueDays after the decision are overdue.
func TestQueueOverThousandDecidedExams(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 1000
	decided := f.clk.Now().AddDate(0, 0, -ReviewDueDays-1) // the older half will be overdue
	var ops []store.Op
	flaggedIDs := map[string]bool{}
	for i := range n {
		at := decided
		if i%2 == 1 {
			at = f.clk.Now().Add(-time.Hour)
		}
		e := exam.Exam{ID: fmt.Sprintf("exam_%026d", i*7919), ClinicID: "clinic_c", Status: exam.Decided, Outcome: exam.Approved,
			ProviderID: []string{"prov_a", "prov_b"}[i%3%2], State: "TX", Treatments: []string{"neurotoxin"}, CreatedAt: at, UpdatedAt: at, DecidedAt: &at, History: []exam.Transition{}}
		if i%37 == 0 {
			e.Flags = []questionnaire.Flag{{Code: "pregnant", Display: "Pregnant"}}
			flaggedIDs[e.ID] = true
		}
		it := exam.ToItem(e, 1)
		ops = append(ops, store.Op{Put: &it, Cond: store.IfAbsent})
		if len(ops) == 25 || i == n-1 {
			if err := f.st.Transact(ctx, ops...); err != nil {
				t.Fatal(err)
			}
			ops = nil
		}
	}
	q, err := f.svc.Queue(ctx, "clinic_c")
	if err != nil {
		t.Fatal(err)
	}
	if q.Totals.Decided != n || q.ReviewPercent != 10 {
		t.Fatalf("totals %+v at %v%%", q.Totals, q.ReviewPercent)
	}
	inQueue := map[string]QueueItem{}
	for _, it := range q.Items {
		inQueue[it.ExamID] = it
	}
	for id := range flaggedIDs {
		if it, ok := inQueue[id]; !ok || it.Reason != "flagged" {
			t.Fatalf("flagged exam %s not in the queue as flagged: %+v", id, it)
		}
	}
	unflagged := n - len(flaggedIDs)
	share := float64(q.Totals.Sampled-len(flaggedIDs)) / float64(unflagged)
	tol := 4 * math.Sqrt(0.1*0.9/float64(unflagged))
	if math.Abs(share-0.1) > tol {
		t.Fatalf("sampled share %.3f outside 0.100±%.3f", share, tol)
	}
	t.Logf("%d decided: %d of %d unflagged sampled (%.3f, tolerance 0.100±%.3f) and all %d flagged", n, q.Totals.Sampled-len(flaggedIDs), unflagged, share, tol, len(flaggedIDs))
	if len(q.Providers) != 2 || q.Providers[0].Sampled+q.Providers[1].Sampled != q.Totals.Sampled {
		t.Fatalf("per provider: %+v", q.Providers)
	}
	overdue := 0
	for _, it := range q.Items {
		if it.Overdue != it.DecidedAt.Equal(decided) {
			t.Fatalf("overdue %v for a chart decided %v (due %v)", it.Overdue, it.DecidedAt, it.DueAt)
		}
		if it.Overdue {
			overdue++
		}
	}
	if overdue == 0 || q.Totals.Overdue != overdue || q.Totals.Completion != 0 {
		t.Fatalf("overdue %d, totals %+v", overdue, q.Totals)
	}
	// A review takes a chart out of the overdue count and into completion.
	var first QueueItem
	for _, it := range q.Items {
		if it.Overdue {
			first = it
			break
		}
	}
	if _, err := f.svc.RecordReview(ctx, f.md, "clinic_c", first.ExamID, ReviewInput{Verdict: VerdictAgree}); err != nil {
		t.Fatal(err)
	}
	q2, err := f.svc.Queue(ctx, "clinic_c")
	if err != nil {
		t.Fatal(err)
	}
	if q2.Totals.Reviewed != 1 || q2.Totals.Overdue != overdue-1 || q2.Totals.Completion != 1/float64(q2.Totals.Sampled) {
		t.Fatalf("after one review: %+v", q2.Totals)
	}
}
