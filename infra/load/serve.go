package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/app/localhome"
	"github.com/goodfaith/goodfaith/internal/auth"
	"github.com/goodfaith/goodfaith/internal/blob/s3blob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/httpapi"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store"
	"github.com/goodfaith/goodfaith/internal/store/dynamo"
	"github.com/goodfaith/goodfaith/internal/store/dynamo/streamfeed"
	"github.com/goodfaith/goodfaith/internal/testenv"
)

// meters count what the in-process server did, for the cost model.
type meters struct {
	apiRequests   atomic.Int64
	apiGBSeconds  atomicFloat
	batches       sync.Map // consumer → *atomic.Int64
	consumerGBSec atomicFloat
	signs         atomic.Int64

	mu          sync.Mutex
	readUnits   float64
	writeUnits  float64
	ddbCalls    map[string]int64
	getsByKind  map[string]int64      // GetItem calls by the kind of key read (the key's first segment)
	conns       map[string]*connCount // by service: connections the SDK's HTTP client reused or opened
	s3Calls     map[string]int64
	storedBytes int64
	memoryMB    int
}

type atomicFloat struct {
	mu sync.Mutex
	v  float64
}

func (f *atomicFloat) add(x float64) { f.mu.Lock(); f.v += x; f.mu.Unlock() }
func (f *atomicFloat) get() float64  { f.mu.Lock(); defer f.mu.Unlock(); return f.v }

func newMeters(memoryMB int) *meters {
	return &meters{ddbCalls: map[string]int64{}, getsByKind: map[string]int64{}, conns: map[string]*connCount{}, s3Calls: map[string]int64{}, memoryMB: memoryMB}
}

// gbs is memory × duration rounded up to the millisecond, as Lambda bills.
func (m *meters) gbs(d time.Duration) float64 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return float64(m.memoryMB) / 1024 * float64(ms) / 1000
}

// timeAPI wraps the API handler: every request but /dev/ is one API
// Gateway request and one Lambda invocation lasting the handler's time.
func (m *meters) timeAPI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/dev/") {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		m.apiRequests.Add(1)
		m.apiGBSeconds.add(m.gbs(time.Since(start)))
	})
}

// timeConsumer wraps a change-feed handler: a batch is what one stream
// Lambda invocation would receive.
func (m *meters) timeConsumer(name string, h store.ChangeHandler) store.ChangeHandler {
	v, _ := m.batches.LoadOrStore(name, new(atomic.Int64))
	n := v.(*atomic.Int64)
	return func(ctx context.Context, changes []store.Change) error {
		start := time.Now()
		err := h(ctx, changes)
		n.Add(1)
		m.consumerGBSec.add(m.gbs(time.Since(start)))
		return err
	}
}

// streamInvocations is the batches of the busiest consumer: in AWS one
// dispatch invocation runs every consumer on a batch in sequence.
func (m *meters) streamInvocations() int64 {
	var most int64
	m.batches.Range(func(_, v any) bool { most = max(most, v.(*atomic.Int64).Load()); return true })
	return most
}

// countingSigner counts signs (KMS Sign requests in AWS).
type countingSigner struct {
	signer.Signer
	n *atomic.Int64
}

func (s countingSigner) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	s.n.Add(1)
	return s.Signer.Sign(ctx, digest)
}

func (s countingSigner) KeyID() string            { return s.Signer.KeyID() }
func (s countingSigner) Public() *ecdsa.PublicKey { return s.Signer.Public() }

// awsRecorder is middleware on every AWS client: it asks DynamoDB for the
// capacity each call consumed and counts S3 operations. Calls that fail
// (a refused condition) report no capacity and are only counted.
func (m *meters) awsRecorder(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("GoodfaithLoadMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			total := ddbtypes.ReturnConsumedCapacityTotal
			switch v := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.UpdateItemInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.DeleteItemInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.GetItemInput:
				v.ReturnConsumedCapacity = total
				kind := keyKind(v.Key)
				defer func() { m.mu.Lock(); m.getsByKind[kind]++; m.mu.Unlock() }()
			case *dynamodb.QueryInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.ScanInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.BatchGetItemInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.BatchWriteItemInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.TransactWriteItemsInput:
				v.ReturnConsumedCapacity = total
			case *dynamodb.TransactGetItemsInput:
				v.ReturnConsumedCapacity = total
			case *s3.PutObjectInput:
				if v.ContentLength != nil {
					defer func(n int64) { m.mu.Lock(); m.storedBytes += n; m.mu.Unlock() }(*v.ContentLength)
				}
			}
			out, md, err := next.HandleInitialize(httptrace.WithClientTrace(ctx, m.connTrace(awsmiddleware.GetServiceID(ctx))), in)
			var read, write float64
			switch o := out.Result.(type) {
			case *dynamodb.PutItemOutput:
				write = unit(o.ConsumedCapacity)
			case *dynamodb.UpdateItemOutput:
				write = unit(o.ConsumedCapacity)
			case *dynamodb.DeleteItemOutput:
				write = unit(o.ConsumedCapacity)
			case *dynamodb.GetItemOutput:
				read = unit(o.ConsumedCapacity)
			case *dynamodb.QueryOutput:
				read = unit(o.ConsumedCapacity)
			case *dynamodb.ScanOutput:
				read = unit(o.ConsumedCapacity)
			case *dynamodb.BatchGetItemOutput:
				read = units(o.ConsumedCapacity...)
			case *dynamodb.BatchWriteItemOutput:
				write = units(o.ConsumedCapacity...)
			case *dynamodb.TransactWriteItemsOutput:
				write = units(o.ConsumedCapacity...)
			case *dynamodb.TransactGetItemsOutput:
				read = units(o.ConsumedCapacity...)
			}
			service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
			if out.Result == nil && err == nil {
				return out, md, err // a presigned URL: nothing was sent
			}
			m.mu.Lock()
			m.readUnits += read
			m.writeUnits += write
			switch service {
			case "S3":
				m.s3Calls[op]++
			default:
				m.ddbCalls[service+" "+op]++
			}
			m.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// connCount is how many requests got a reused connection and how many a
// new one.
type connCount struct {
	Reused int64 `json:"reused"`
	New    int64 `json:"new"`
}

// connTrace counts, per service, whether each request's connection was
// reused from the client's idle pool or newly dialled (a TCP handshake,
// and with TLS a TLS one, added to the request).
func (m *meters) connTrace(service string) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		m.mu.Lock()
		defer m.mu.Unlock()
		c := m.conns[service]
		if c == nil {
			c = &connCount{}
			m.conns[service] = c
		}
		if info.Reused {
			c.Reused++
		} else {
			c.New++
		}
	}}
}

// keyKind is what a GetItem reads: its partition key up to the first '#'
// and its sort key's likewise ("EXAM #META"), so that the reads a run makes
// per exam can be told apart.
func keyKind(key map[string]ddbtypes.AttributeValue) string {
	seg := func(name string) string {
		v, ok := key[name].(*ddbtypes.AttributeValueMemberS)
		if !ok {
			return "?"
		}
		s, _, _ := strings.Cut(v.Value, "#")
		return s
	}
	return seg("pk") + " " + seg("sk")
}

func unit(c *ddbtypes.ConsumedCapacity) float64 {
	if c == nil {
		return 0
	}
	return units(*c)
}

func units(cs ...ddbtypes.ConsumedCapacity) float64 {
	var n float64
	for _, c := range cs {
		if c.CapacityUnits != nil {
			n += *c.CapacityUnits
		}
	}
	return n
}

// s3Tiers splits the S3 calls into the two request prices.
func (m *meters) s3Tiers() (tier1, tier2 int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for op, n := range m.s3Calls {
		switch {
		case strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "Head"):
			tier2 += n
		default: // Put, Copy, Post, List, and the rest
			tier1 += n
		}
	}
	return tier1, tier2
}

// server is an in-process Goodfaith on loopback.
type server struct {
	URL    string
	Home   string
	Meters *meters
	Close  func()
}

// serve starts Goodfaith in this process on a loopback port: home is
// "embedded" (bbolt, blob directory, key file) or "dynamo" (DynamoDB Local
// and MinIO found through the GOODFAITH_* variables infra/testenv exports).
func serve(ctx context.Context, home string, seedJSON []byte, memoryMB int, logw io.Writer) (*server, error) {
	seed, err := directory.ParseSeed(seedJSON)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	dir, err := os.MkdirTemp("", "goodfaith-load-")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := newMeters(memoryMB)
	ctx, cancel := context.WithCancel(ctx)
	var closers []func()
	cleanup := func() {
		cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		os.RemoveAll(dir)
	}
	fail := func(err error) (*server, error) { ln.Close(); cleanup(); return nil, err }

	var ports app.Ports
	var feed store.ChangeFeed
	var blobs http.Handler
	patientSecret := []byte("load-test patient token secret, 32+ bytes long")
	switch home {
	case "embedded":
		local, err := localhome.Open(dir, base, clock.System{}, log)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, func() { local.Close() })
		ports, feed, blobs, patientSecret = local.Ports, local.Store, local.BlobHandler(), local.PatientSecret
	case "dynamo":
		ddb, s3end := os.Getenv(testenv.DynamoDBEndpointVar), os.Getenv(testenv.S3EndpointVar)
		if ddb == "" || s3end == "" {
			return fail(fmt.Errorf("-serve dynamo needs %s and %s: run it under infra/testenv/with-services.sh", testenv.DynamoDBEndpointVar, testenv.S3EndpointVar))
		}
		key, err := signer.LoadOrCreateFileKey(filepath.Join(dir, "key.pem"))
		if err != nil {
			return fail(err)
		}
		name := fmt.Sprintf("goodfaith-load-%d", time.Now().UnixNano()%1e9)
		a, err := app.OpenAWS(ctx, app.AWSConfig{
			Region: "us-east-1", Table: name, Bucket: name, SSEKMSKey: os.Getenv(s3blob.KMSKeyIDVar),
			DynamoDBEndpoint: ddb, S3Endpoint: s3end, AccessKey: os.Getenv(testenv.S3AccessKeyVar), SecretKey: os.Getenv(testenv.S3SecretKeyVar),
			APIOptions: []func(*middleware.Stack) error{m.awsRecorder},
		}, key, clock.System{}, log)
		if err != nil {
			return fail(err)
		}
		if err := dynamo.CreateTable(ctx, a.DB, name); err != nil {
			return fail(err)
		}
		if err := s3blob.CreateBucket(ctx, a.S3, name, true); err != nil {
			return fail(err)
		}
		ports = a.Ports
		feed = streamfeed.NewFromConfig(a.Store, a.Config, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(ddb) })
	default:
		return fail(fmt.Errorf("-serve %q: want embedded or dynamo", home))
	}
	ports.Signer = countingSigner{Signer: ports.Signer, n: &m.signs}

	issuer, err := auth.NewDevIssuer(auth.DevIssuerConfig{Dir: dir, Issuer: base + "/dev"})
	if err != nil {
		return fail(err)
	}
	verifier, err := issuer.Verifier()
	if err != nil {
		return fail(err)
	}
	a, err := app.New(ports, app.Settings{
		Log: log, PatientSecret: patientSecret, TokenIssuer: base, Providers: verifier,
		PublicOrigin: base, VerifyBaseURL: base + "/v1/psos/", DevIssuer: issuer,
	})
	if err != nil {
		return fail(err)
	}
	if err := a.LoadSeed(ctx, seed); err != nil {
		return fail(err)
	}
	// The consumers, as app.RunConsumers runs them, each batch timed.
	for _, c := range a.Consumers() {
		h := m.timeConsumer(c.Name, c.Handle)
		go func() {
			for ctx.Err() == nil {
				if err := feed.Consume(ctx, c.Name, h); err != nil && ctx.Err() == nil {
					log.Error("consumer stopped", "consumer", c.Name, "error", err.Error())
					time.Sleep(time.Second)
				}
			}
		}()
	}
	a.RunIntegrations(ctx)

	mux := http.NewServeMux()
	if blobs != nil {
		mux.Handle(localhome.BlobsPath, blobs)
	}
	mux.Handle("/", m.timeAPI(a.Handler(httpapi.AllAudiences...)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	closers = append(closers, func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(sctx)
	})
	return &server{URL: base, Home: home, Meters: m, Close: cleanup}, nil
}
