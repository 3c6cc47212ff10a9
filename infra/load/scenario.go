package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clinic is one clinic the run plays: patients use its publishable key,
// its dashboard polls with the secret key.
type Clinic struct {
	PK, SK string
}

// Provider is one provider and how to get its token.
type Provider struct {
	ID    string
	Token string // given (deployed); empty: minted by POST /dev/token
}

// Mix is the share of each outcome, in percent of exams; Cancel is the
// share of patients who cancel right after submitting (a race with the
// providers: a decided exam refuses the cancel, and a decision on an exam
// cancelled after its claim is refused with 409 invalid_transition).
type Mix struct {
	Approved, Deferred, Denied, Cancel int
}

// Config is one run.
type Config struct {
	Rate        float64       // new patients per second
	Duration    time.Duration // how long patients arrive
	Concurrency int           // patients in flight at most (arrivals beyond it are counted as shed)
	Workers     int           // concurrent workers per provider
	Mix         Mix
	Clinics     []Clinic
	Providers   []Provider
	States      []string
	Treatments  []string
	Poll        time.Duration // each clinic's dashboard poll interval
	Drain       time.Duration // how long providers may take to finish after arrivals stop
	Progress    func(string)  // progress lines (nil: none)
}

// examRecord is what the run knows of one exam.
type examRecord struct {
	ID, Clinic, SK, State string
	Treatments            []string
	Submitted             bool
	Cancelled             bool
	Outcome               string // set by the decision response
	PSOID, JWS, SHA256    string
}

// run is the state of one run.
type run struct {
	cfg Config
	c   *client

	mu    sync.Mutex
	exams map[string]*examRecord

	created, submitted, decided, cancelled, shed, failed, uploads, uploadBytes atomic.Int64
	claimConflicts                                                             atomic.Int64
	decisionsRefused                                                           atomic.Int64 // 409: the patient cancelled the claimed exam first
	configs                                                                    sync.Map     // pk → *widgetConfig
}

// widgetConfig is the part of GET /v1/widget/config the patients use.
type widgetConfig struct {
	States         []string                 `json:"states"`
	Questionnaires map[string]questionnaire `json:"questionnaires"`
}

type questionnaire struct {
	Item []qItem `json:"item"`
}

type qItem struct {
	LinkID       string `json:"linkId"`
	Type         string `json:"type"`
	Required     bool   `json:"required"`
	EnableWhen   []any  `json:"enableWhen"`
	AnswerOption []struct {
		ValueCoding *struct {
			Code string `json:"code"`
		} `json:"valueCoding"`
		ValueString *string `json:"valueString"`
	} `json:"answerOption"`
	Item []qItem `json:"item"`
}

// answers completes a questionnaire the way a healthy patient would: every
// required item answered, every yes/no "no" (so no conditional item opens),
// and the photos attached to the attachment item.
func answers(q questionnaire, photos []string) map[string]any {
	out := map[string]any{}
	var walk func(items []qItem)
	walk = func(items []qItem) {
		for _, it := range items {
			if len(it.EnableWhen) > 0 {
				continue
			}
			switch it.Type {
			case "group":
				walk(it.Item)
				continue
			case "display":
				continue
			case "attachment":
				if len(photos) > 0 {
					out[it.LinkID] = photos
				}
				continue
			}
			if !it.Required {
				continue
			}
			switch it.Type {
			case "boolean":
				out[it.LinkID] = false
			case "string", "text":
				out[it.LinkID] = "none"
			case "integer":
				out[it.LinkID] = 1
			case "decimal":
				if strings.Contains(it.LinkID, "weight") {
					out[it.LinkID] = 165.5
				} else {
					out[it.LinkID] = 66.0
				}
			case "date":
				out[it.LinkID] = time.Now().UTC().AddDate(0, -1, 0).Format(time.DateOnly)
			case "choice":
				if len(it.AnswerOption) > 0 {
					if o := it.AnswerOption[0]; o.ValueCoding != nil {
						out[it.LinkID] = o.ValueCoding.Code
					} else if o.ValueString != nil {
						out[it.LinkID] = *o.ValueString
					}
				}
			}
		}
	}
	walk(q.Item)
	return out
}

func (r *run) progress(start time.Time, done bool) {
	if r.cfg.Progress == nil {
		return
	}
	calls, errs := r.c.rec.total()
	el := time.Since(start).Seconds()
	r.cfg.Progress(fmt.Sprintf("t=%4.0fs patients=%d submitted=%d decided=%d cancelled=%d in-queue=%d shed=%d failed=%d calls=%d (%.0f/s) errors=%d%s",
		el, r.created.Load(), r.submitted.Load(), r.decided.Load(), r.cancelled.Load(),
		r.submitted.Load()-r.decided.Load()-r.cancelled.Load(), r.shed.Load(), r.failed.Load(), calls, float64(calls)/el, errs,
		map[bool]string{true: " done", false: ""}[done]))
}

// patient plays one patient: the widget's config, a draft, a photo, the
// intake, the submission, maybe a cancel, and a look at the exam.
func (r *run) patient(ctx context.Context, rng *rand.Rand) error {
	cl := r.cfg.Clinics[rng.IntN(len(r.cfg.Clinics))]
	key := map[string]string{"X-Goodfaith-Key": cl.PK}
	resp, err := r.c.call(ctx, "GET /v1/widget/config", "GET", "/v1/widget/config", key, nil, 200)
	if err != nil {
		return err
	}
	var cfg widgetConfig
	if err := resp.decode(&cfg); err != nil {
		return err
	}
	state := r.cfg.States[rng.IntN(len(r.cfg.States))]
	treatment := r.cfg.Treatments[rng.IntN(len(r.cfg.Treatments))]
	q, ok := cfg.Questionnaires[treatment]
	if !ok {
		return fmt.Errorf("clinic %s does not offer %s", cl.PK, treatment)
	}
	n := r.created.Add(1)
	resp, err = r.c.call(ctx, "POST /v1/exams", "POST", "/v1/exams", key, map[string]any{
		"patient": map[string]any{"first_name": "Load", "last_name": fmt.Sprintf("Patient%d", n), "dob": "1988-03-14",
			"email": fmt.Sprintf("load%d@example.com", n), "phone": "+1 512 555 0100", "state": state},
		"treatments": []string{treatment}, "modality": "async",
	}, 201)
	if err != nil {
		return err
	}
	var created struct {
		Exam struct {
			ID                string   `json:"id"`
			ModalitiesAllowed []string `json:"modalities_allowed"`
		} `json:"exam"`
		PatientToken string `json:"patient_token"`
	}
	if err := resp.decode(&created); err != nil {
		return err
	}
	id, tok := created.Exam.ID, created.PatientToken
	rec := &examRecord{ID: id, Clinic: cl.PK, SK: cl.SK, State: state, Treatments: []string{treatment}}
	r.mu.Lock()
	r.exams[id] = rec
	r.mu.Unlock()
	auth := map[string]string{"Authorization": "Bearer " + tok}

	// Every state that allows async exams requires photos for them (the
	// rules data says so); the patient uploads one.
	photo, err := r.upload(ctx, id, auth)
	if err != nil {
		return err
	}
	if _, err := r.c.call(ctx, "PUT /v1/exams/{id}/intake", "PUT", "/v1/exams/"+id+"/intake", auth, map[string]any{
		"answers": answers(q, []string{photo}), "consents": map[string]bool{"telehealth": true, "privacy": true},
		"modality": "async", "attachments": []string{photo},
	}, 200); err != nil {
		return err
	}
	if _, err := r.c.call(ctx, "POST /v1/exams/{id}/submit", "POST", "/v1/exams/"+id+"/submit", auth, nil, 202); err != nil {
		return err
	}
	r.mu.Lock()
	rec.Submitted = true
	r.mu.Unlock()
	r.submitted.Add(1)
	if rng.IntN(100) < r.cfg.Mix.Cancel {
		resp, err := r.c.call(ctx, "POST /v1/exams/{id}/cancel", "POST", "/v1/exams/"+id+"/cancel", auth, nil, 200, 409)
		if err != nil {
			return err
		}
		if resp.status == 200 {
			r.mu.Lock()
			rec.Cancelled = true
			r.mu.Unlock()
			r.cancelled.Add(1)
		}
	}
	_, err = r.c.call(ctx, "GET /v1/exams/{id}", "GET", "/v1/exams/"+id, auth, nil, 200)
	return err
}

var photoBytes = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{0x42}, 48<<10)...)

func (r *run) upload(ctx context.Context, id string, auth map[string]string) (string, error) {
	resp, err := r.c.call(ctx, "POST /v1/exams/{id}/attachments", "POST", "/v1/exams/"+id+"/attachments", auth,
		map[string]any{"kind": "photo", "content_type": "image/jpeg", "size": len(photoBytes)}, 201)
	if err != nil {
		return "", err
	}
	var att struct {
		ID      string            `json:"attachment_id"`
		URL     string            `json:"upload_url"`
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
	}
	if err := resp.decode(&att); err != nil {
		return "", err
	}
	h := map[string]string{"Content-Type": "image/jpeg"}
	for k, v := range att.Headers {
		h[k] = v
	}
	if _, err := r.c.call(ctx, "PUT upload_url (blob)", att.Method, att.URL, h, photoBytes, 200, 201, 204); err != nil {
		return "", err
	}
	r.uploads.Add(1)
	r.uploadBytes.Add(int64(len(photoBytes)))
	return att.ID, nil
}

// queueItem is one entry of GET /v1/provider/queue.
type queueItem struct {
	ExamID     string   `json:"exam_id"`
	Treatments []string `json:"treatments"`
}

// queueHead is how many of the oldest queued exams a provider worker
// chooses among.
const queueHead = 4

// provider plays one provider worker until stop closes: it takes the
// oldest exams from its queue (one of the first few, to spread the
// workers), claims, reads and decides them.
func (r *run) provider(ctx context.Context, stop <-chan struct{}, token string, rng *rand.Rand) {
	auth := map[string]string{"Authorization": "Bearer " + token}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		// The worker takes one of the first few: it asks for no more (the
		// provider console asks for the whole queue).
		resp, err := r.c.call(ctx, "GET /v1/provider/queue", "GET", "/v1/provider/queue?limit="+strconv.Itoa(queueHead), auth, nil, 200)
		var q struct {
			Items []queueItem `json:"items"`
		}
		if err != nil || resp.decode(&q) != nil || len(q.Items) == 0 {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		it := q.Items[rng.IntN(min(len(q.Items), queueHead))]
		resp, err = r.c.call(ctx, "POST /v1/provider/exams/{id}/claim", "POST", "/v1/provider/exams/"+it.ExamID+"/claim", auth, nil, 200, 409, 404)
		if err != nil {
			continue
		}
		if resp.status != 200 {
			r.claimConflicts.Add(1) // another worker (or a cancel) got there first
			continue
		}
		if _, err := r.c.call(ctx, "GET /v1/provider/exams/{id}", "GET", "/v1/provider/exams/"+it.ExamID, auth, nil, 200); err != nil {
			continue
		}
		r.decide(ctx, auth, it, rng)
	}
}

func (r *run) decide(ctx context.Context, auth map[string]string, it queueItem, rng *rand.Rand) {
	m := r.cfg.Mix
	outcome := "approved"
	switch x := rng.IntN(max(m.Approved+m.Deferred+m.Denied, 1)); {
	case x < m.Approved:
	case x < m.Approved+m.Deferred:
		outcome = "deferred"
	default:
		outcome = "denied"
	}
	body := map[string]any{"outcome": outcome, "notes": "Reviewed history and photos under load.", "attestation": map[string]bool{"accepted": true}}
	if outcome == "approved" {
		var orders []map[string]any
		for _, t := range it.Treatments {
			product, route := orderFor(t) // products.go
			orders = append(orders, map[string]any{"treatment": t, "product": product, "dose": "as labelled",
				"route": route, "areas": []string{"as discussed"}, "frequency": "as needed", "quantity": "1", "refills": 1})
		}
		body["orders"] = orders
	} else {
		body["reason"] = "Load test " + outcome
	}
	want := map[string]int{"approved": 201}[outcome]
	if want == 0 {
		want = 200
	}
	h := map[string]string{"Authorization": auth["Authorization"], "Idempotency-Key": "load-" + it.ExamID}
	resp, err := r.c.call(ctx, "POST /v1/provider/exams/{id}/decision", "POST", "/v1/provider/exams/"+it.ExamID+"/decision", h, body, want, 409)
	if err != nil {
		return
	}
	if resp.status == 409 {
		// The patient may cancel a claimed exam; the end-state check then
		// finds it cancelled and unbilled. Any other conflict is a failure.
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if resp.decode(&e) == nil && e.Error.Code == "invalid_transition" {
			r.decisionsRefused.Add(1)
		} else {
			r.failed.Add(1)
		}
		return
	}
	var d struct {
		PSO *struct {
			ID     string `json:"id"`
			JWS    string `json:"jws"`
			SHA256 string `json:"sha256"`
		} `json:"pso"`
	}
	if err := resp.decode(&d); err != nil {
		return
	}
	r.mu.Lock()
	if rec := r.exams[it.ExamID]; rec != nil {
		rec.Outcome = outcome
		if d.PSO != nil {
			rec.PSOID, rec.JWS, rec.SHA256 = d.PSO.ID, d.PSO.JWS, d.PSO.SHA256
		}
	}
	r.mu.Unlock()
	r.decided.Add(1)
}

// clinicPoller plays a clinic dashboard: its decided exams and its usage.
func (r *run) clinicPoller(ctx context.Context, stop <-chan struct{}, cl Clinic) {
	auth := map[string]string{"Authorization": "Bearer " + cl.SK}
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.c.call(ctx, "GET /v1/clinic/exams", "GET", "/v1/clinic/exams?status=decided", auth, nil, 200)
		r.c.call(ctx, "GET /v1/clinic/usage", "GET", "/v1/clinic/usage?month="+time.Now().UTC().Format("2006-01"), auth, nil, 200)
	}
}

// play runs arrivals for the duration, then lets providers drain.
func (r *run) play(ctx context.Context, tokens []string) (arrivalsEnd, end time.Time) {
	start := time.Now()
	stopWorkers := make(chan struct{})
	var workers sync.WaitGroup
	seed := uint64(time.Now().UnixNano())
	for i, tok := range tokens {
		for w := 0; w < r.cfg.Workers; w++ {
			workers.Add(1)
			go func() {
				defer workers.Done()
				r.provider(ctx, stopWorkers, tok, rand.New(rand.NewPCG(seed, uint64(i*1000+w))))
			}()
		}
	}
	for _, cl := range r.cfg.Clinics {
		workers.Add(1)
		go func() { defer workers.Done(); r.clinicPoller(ctx, stopWorkers, cl) }()
	}
	stopProgress := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				r.progress(start, false)
			}
		}
	}()

	// Arrivals: open loop at the rate, at most Concurrency in flight.
	sem := make(chan struct{}, r.cfg.Concurrency)
	var patients sync.WaitGroup
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	deadline := start.Add(r.cfg.Duration)
	next := start
	for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		select {
		case sem <- struct{}{}:
			patients.Add(1)
			go func() {
				defer patients.Done()
				defer func() { <-sem }()
				if err := r.patient(ctx, rand.New(rand.NewPCG(seed, uint64(1e9+i)))); err != nil {
					r.failed.Add(1)
				}
			}()
		default:
			r.shed.Add(1)
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	patients.Wait()
	arrivalsEnd = time.Now()
	// Drain: providers work until every submitted exam is final.
	drainBy := time.Now().Add(r.cfg.Drain)
	for time.Now().Before(drainBy) && r.submitted.Load() > r.decided.Load()+r.cancelled.Load() && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	end = time.Now()
	close(stopWorkers)
	workers.Wait()
	close(stopProgress)
	r.progress(start, true)
	return arrivalsEnd, end
}
