package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/audit"
	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/pso"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// psoObjects counts the PSO objects written through the blob port.
type psoObjects struct {
	blob.Store
	n atomic.Int32
}

func (c *psoObjects) Put(ctx context.Context, in blob.PutInput) (blob.Object, error) {
	obj, err := c.Store.Put(ctx, in)
	if err == nil && strings.HasPrefix(in.Key, "psos/") {
		c.n.Add(1)
	}
	return obj, err
}

// psoHome is a home whose PSO object writes are counted; on AWS it also
// lists what the bucket holds.
type psoHome struct {
	*env
	objects *psoObjects
	listS3  func(prefix string) int // object versions under prefix; nil on the embedded home
}

func openPSOHome(t *testing.T, name string) psoHome {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	if name == "embedded" {
		local, err := localhome.Open(t.TempDir(), base, clock.System{}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { local.Close() })
		counted := &psoObjects{Store: local.Ports.Blobs}
		ports := local.Ports
		ports.Blobs = counted
		return psoHome{env: start(t, srv, ports, local.PatientSecret, local.Store, local.BlobHandler(), false), objects: counted}
	}
	ddb, s3svc := testenv.DynamoDB(t), testenv.S3(t)
	ctx := context.Background()
	n := fmt.Sprintf("pso-%d-%d", time.Now().UnixNano()%1e9, uniq.Add(1))
	key, err := signer.LoadOrCreateFileKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.OpenAWS(ctx, app.AWSConfig{
		Region: "us-east-1", Table: "goodfaith-e2e-" + n, Bucket: "goodfaith-e2e-" + n, SSEKMSKey: os.Getenv(s3blob.KMSKeyIDVar),
		DynamoDBEndpoint: ddb, S3Endpoint: s3svc.Endpoint, AccessKey: s3svc.AccessKey, SecretKey: s3svc.SecretKey,
	}, key, clock.System{}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, a.DB, "goodfaith-e2e-"+n); err != nil {
		t.Fatal(err)
	}
	if err := s3blob.CreateBucket(ctx, a.S3, "goodfaith-e2e-"+n, true); err != nil {
		t.Fatal(err)
	}
	counted := &psoObjects{Store: a.Ports.Blobs}
	ports := a.Ports
	ports.Blobs = counted
	listS3 := func(prefix string) int {
		out, err := a.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("goodfaith-e2e-" + n), Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Versions) + len(out.DeleteMarkers)
	}
	return psoHome{env: start(t, srv, ports, []byte("e2e patient-token secret of 32+ bytes"), awsFeed(t, a), nil, false), objects: counted, listS3: listS3}
}

// claimed returns an exam claimed by the Texas MD, and the MD's headers.
func (h psoHome) claimed() (string, hdr) {
	h.t.Helper()
	id, _ := h.queued()
	md := bearer(h.providerToken("prov_tx_md"))
	h.must(200, h.do("POST", "/v1/provider/exams/"+id+"/claim", md, nil))
	return id, md
}

func (h psoHome) psoRecords(t *testing.T) int {
	page, err := h.Store.Query(t.Context(), store.Query{Index: store.ByGSI1, PK: "CLINIC#clinic_a#PSOS"})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

// TestApprovalRetriedConcurrentlyMakesOnePSO: the same approval sent ten
// times at once, with one Idempotency-Key, yields one PSO and one set of
// objects (a JWS and a PDF); ten at once without a key, one approval and
// nine conflicts.
func TestApprovalRetriedConcurrentlyMakesOnePSO(t *testing.T) {
	for _, name := range []string{"embedded", "aws"} {
		t.Run(name, func(t *testing.T) {
			h := openPSOHome(t, name)
			id, md := h.claimed()
			withKey := hdr{"Authorization": md["Authorization"], "Idempotency-Key": "approve-" + id}
			var mu sync.Mutex
			bodies := map[string]int{}
			counts := race(10, func() res {
				r := h.do("POST", "/v1/provider/exams/"+id+"/decision", withKey, approval)
				mu.Lock()
				bodies[string(r.Body)]++
				mu.Unlock()
				return r
			})
			if counts[201] != 10 || len(bodies) != 1 {
				t.Fatalf("statuses %v, %d distinct bodies; want ten identical 201s", counts, len(bodies))
			}
			if n := h.psoRecords(t); n != 1 {
				t.Fatalf("%d PSO records", n)
			}
			if n := h.objects.n.Load(); n != 2 {
				t.Fatalf("%d PSO objects written, want 2 (JWS and PDF)", n)
			}
			psoID := pso.IDForExam(id)
			if h.listS3 != nil {
				if n := h.listS3("psos/" + psoID + "/"); n != 2 {
					t.Fatalf("the bucket holds %d versions under the PSO, want 2", n)
				}
			}

			id2, md2 := h.claimed()
			counts = race(10, func() res { return h.do("POST", "/v1/provider/exams/"+id2+"/decision", md2, approval) })
			if counts[201] != 1 || counts[409] != 9 {
				t.Fatalf("without a key: %v, want one 201 and nine 409", counts)
			}
			if n := h.objects.n.Load(); n != 4 {
				t.Fatalf("%d PSO objects after two approvals, want 4", n)
			}
		})
	}
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestClinicPSODocumentsAndRevocation: the clinic downloads the PDF
// (directly and through a short-lived link) carrying the signed order, and
// revokes the order with a reason; verification then reports it revoked,
// and the public status and list show it without patient data.
func TestClinicPSODocumentsAndRevocation(t *testing.T) {
	for _, name := range []string{"embedded", "aws"} {
		t.Run(name, func(t *testing.T) {
			h := openPSOHome(t, name)
			id, md := h.claimed()
			dec := h.must(201, h.do("POST", "/v1/provider/exams/"+id+"/decision", md, approval)).json(t)
			jws := dec["pso"].(map[string]any)["jws"].(string)
			psoID := dec["pso"].(map[string]any)["id"].(string)
			clinic, other := bearer(skA), bearer(skB)

			view := h.must(200, h.do("GET", "/v1/clinic/psos/"+psoID, clinic, nil)).json(t)["pso"].(map[string]any)
			if view["revoked"] != false || view["pdf_sha256"] == "" || view["document_sha256"] == "" {
				t.Fatalf("clinic view = %v", view)
			}
			pdfRes := h.must(200, h.do("GET", "/v1/clinic/psos/"+psoID+"/pdf", clinic, nil))
			if ct := pdfRes.Header.Get("Content-Type"); ct != "application/pdf" || sha256Of(pdfRes.Body) != view["pdf_sha256"] {
				t.Fatalf("PDF: %s, digest %s, want %v", ct, sha256Of(pdfRes.Body), view["pdf_sha256"])
			}
			if got, err := pso.ExtractJWS(pdfRes.Body); err != nil || got != jws {
				t.Fatalf("the PDF does not carry the signed order: %v", err)
			}
			link := view["downloads"].(map[string]any)["pdf"].(map[string]any)["url"].(string)
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			linked, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || sha256Of(linked) != view["pdf_sha256"] {
				t.Fatalf("presigned PDF download: %d", resp.StatusCode)
			}
			for _, path := range []string{"/v1/clinic/psos/" + psoID, "/v1/clinic/psos/" + psoID + "/pdf"} {
				if r := h.do("GET", path, other, nil); r.Status != 404 {
					t.Fatalf("another clinic read %s: %d", path, r.Status)
				}
			}

			before := h.snapshot()
			for _, body := range []any{map[string]any{}, map[string]any{"reason": "   "}, map[string]any{"reason": strings.Repeat("x", 1001)}} {
				if r := h.do("POST", "/v1/clinic/psos/"+psoID+"/revoke", clinic, body); r.Status != 422 || r.errorField(t) != "reason" {
					t.Fatalf("revoke without a valid reason: %d %s", r.Status, r.Body)
				}
			}
			if r := h.do("POST", "/v1/clinic/psos/"+psoID+"/revoke", other, map[string]any{"reason": "x"}); r.Status != 404 {
				t.Fatalf("another clinic revoked: %d", r.Status)
			}
			h.assertUnchanged(before, "refused revocations")

			rev := h.must(200, h.do("POST", "/v1/clinic/psos/"+psoID+"/revoke", clinic, map[string]any{"reason": "Patient reported a new contraindication."})).json(t)
			if rev["pso"].(map[string]any)["revoked"] != true {
				t.Fatalf("revoke = %v", rev)
			}
			if r := h.do("POST", "/v1/clinic/psos/"+psoID+"/revoke", clinic, map[string]any{"reason": "again"}); r.Status != 409 || r.errorCode(t) != "already_revoked" {
				t.Fatalf("second revoke: %d %s", r.Status, r.Body)
			}
			ver := h.must(200, h.do("POST", "/v1/psos/verify", nil, map[string]string{"jws": jws})).json(t)
			if ver["valid"] != false || ver["reason"] != "revoked" || ver["revoked_at"] == nil {
				t.Fatalf("verify of a revoked order = %v", ver)
			}
			view = h.must(200, h.do("GET", "/v1/clinic/psos/"+psoID, clinic, nil)).json(t)["pso"].(map[string]any)
			if view["revoked"] != true || view["revocation"].(map[string]any)["reason"] != "Patient reported a new contraindication." {
				t.Fatalf("clinic view after revocation = %v", view)
			}
			status := h.must(200, h.do("GET", "/v1/psos/"+psoID, nil, nil))
			if st := status.json(t)["pso"].(map[string]any); st["status"] != "revoked" || st["sha256"] != sha256Hex(jws) {
				t.Fatalf("public status = %v", st)
			}
			list := h.must(200, h.do("GET", "/v1/psos/revocations", nil, nil))
			if !strings.Contains(string(list.Body), psoID) {
				t.Fatalf("revocation list = %s", list.Body)
			}
			for _, public := range [][]byte{status.Body, list.Body} {
				if strings.Contains(string(public), "Garc") || strings.Contains(string(public), "contraindication") {
					t.Fatalf("a public answer carries patient data: %s", public)
				}
			}
			if r := h.do("GET", "/v1/psos/pso_nope", nil, nil); r.Status != 404 {
				t.Fatalf("unknown PSO status: %d", r.Status)
			}
			recs, err := audit.ForExam(context.Background(), h.Store, id)
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]bool{}
			for _, r := range recs {
				actions[r.Role+":"+r.Action] = true
			}
			for _, want := range []string{"clinic:pso.read", "clinic:pso.pdf.read", "clinic:pso.download_links", "clinic:pso.revoke"} {
				if !actions[want] {
					t.Errorf("no audit record %s (have %v)", want, actions)
				}
			}
		})
	}
}
