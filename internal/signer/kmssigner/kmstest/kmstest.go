// Package kmstest serves the AWS KMS JSON 1.1 wire protocol for the two
// operations the signing adapter uses, Sign and GetPublicKey, on a loopback
// httptest server, so that the adapter is exercised through the real
// aws-sdk-go-v2 KMS client. No KMS emulator can be installed where the
// tests run, and the adapter must not be tested against a hand-made fake of
// the client interface.
//
// What it checks of a request, as KMS does: POST to "/", Content-Type
// application/x-amz-json-1.1, an X-Amz-Target of TrentService.<Operation>,
// a SigV4 Authorization header scoped to the kms service, a known key id
// (bare id, key ARN or alias), MessageType DIGEST with a 32-byte message or
// RAW, and SigningAlgorithm ECDSA_SHA_256. Errors are answered as KMS
// answers them: status 400 and {"__type": "...Exception", "message": ...}.
// Signatures are DER ECDSA-Sig-Values, public keys DER
// SubjectPublicKeyInfo.
package kmstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Region and Account are what key ARNs of the server carry.
const (
	Region  = "us-east-1"
	Account = "111122223333"
)

// Server is a KMS endpoint on loopback holding P-256 (and, to test refusal,
// P-384) signing keys.
type Server struct {
	URL string
	srv *httptest.Server

	mu      sync.Mutex
	keys    map[string]*ecdsa.PrivateKey // by bare key id
	aliases map[string]string            // "alias/x" → key id

	signs atomic.Int64
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{keys: map[string]*ecdsa.PrivateKey{}, aliases: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Client returns an aws-sdk-go-v2 KMS client for the server, with static
// test credentials.
func (s *Server) Client() *kms.Client {
	return kms.New(kms.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDKMSTEST", "kmstest-secret", ""),
		HTTPClient:   s.srv.Client(),
	})
}

// CreateKey makes a new ECC_NIST_P256 SIGN_VERIFY key and returns its id.
func (s *Server) CreateKey(t testing.TB) string { return s.createKey(t, elliptic.P256()) }

// CreateP384Key makes an ECC_NIST_P384 key, which the adapter must refuse.
func (s *Server) CreateP384Key(t testing.TB) string { return s.createKey(t, elliptic.P384()) }

func (s *Server) createKey(t testing.TB, curve elliptic.Curve) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	s.mu.Lock()
	s.keys[id] = key
	s.mu.Unlock()
	return id
}

// Alias points alias ("alias/name") at a key, as a rotation re-points it.
func (s *Server) Alias(alias, keyID string) {
	s.mu.Lock()
	s.aliases[alias] = keyID
	s.mu.Unlock()
}

// ARN is the ARN of a key id.
func ARN(keyID string) string { return "arn:aws:kms:" + Region + ":" + Account + ":key/" + keyID }

// Public is the public half of a key.
func (s *Server) Public(keyID string) *ecdsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[keyID]; k != nil {
		return &k.PublicKey
	}
	return nil
}

// Signs counts the Sign requests answered with a signature.
func (s *Server) Signs() int64 { return s.signs.Load() }

func (s *Server) lookup(ref string) (string, *ecdsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ref
	switch {
	case strings.HasPrefix(ref, "alias/"):
		id = s.aliases[ref]
	case strings.HasPrefix(ref, "arn:aws:kms:"+Region+":"+Account+":key/"):
		id = strings.TrimPrefix(ref, "arn:aws:kms:"+Region+":"+Account+":key/")
	}
	return id, s.keys[id]
}

type kmsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func fail(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(kmsError{Type: typ, Message: msg})
}

func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		fail(w, http.StatusNotFound, "UnknownOperationException", "KMS answers POST / only")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		fail(w, http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1, got "+ct)
		return
	}
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 ") || !strings.Contains(authz, "/"+Region+"/kms/aws4_request") {
		fail(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "requests must be signed with SigV4 for kms in "+Region)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", "unreadable body")
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "TrentService.GetPublicKey":
		s.getPublicKey(w, body)
	case "TrentService.Sign":
		s.sign(w, body)
	default:
		fail(w, http.StatusBadRequest, "UnknownOperationException", "this test endpoint serves Sign and GetPublicKey")
	}
}

func (s *Server) getPublicKey(w http.ResponseWriter, body []byte) {
	var in struct {
		KeyId       string
		GrantTokens []string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", "body is not JSON")
		return
	}
	id, key := s.lookup(in.KeyId)
	if key == nil {
		fail(w, http.StatusBadRequest, "NotFoundException", "Key '"+in.KeyId+"' does not exist")
		return
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		fail(w, http.StatusInternalServerError, "KMSInternalException", err.Error())
		return
	}
	spec, alg := "ECC_NIST_P256", "ECDSA_SHA_256"
	if key.Curve != elliptic.P256() {
		spec, alg = "ECC_NIST_P384", "ECDSA_SHA_384"
	}
	reply(w, map[string]any{
		"KeyId": ARN(id), "PublicKey": der, "KeySpec": spec, "CustomerMasterKeySpec": spec,
		"KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": []string{alg},
	})
}

func (s *Server) sign(w http.ResponseWriter, body []byte) {
	var in struct {
		KeyId            string
		Message          []byte // base64 in JSON, as the wire protocol sends blobs
		MessageType      string
		SigningAlgorithm string
		GrantTokens      []string
		DryRun           bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", "body is not JSON")
		return
	}
	id, key := s.lookup(in.KeyId)
	if key == nil {
		fail(w, http.StatusBadRequest, "NotFoundException", "Key '"+in.KeyId+"' does not exist")
		return
	}
	if key.Curve != elliptic.P256() || in.SigningAlgorithm != "ECDSA_SHA_256" {
		fail(w, http.StatusBadRequest, "InvalidKeyUsageException", "signing algorithm "+in.SigningAlgorithm+" is not valid for this key")
		return
	}
	digest := in.Message
	switch in.MessageType {
	case "DIGEST":
		if len(digest) != sha256.Size {
			fail(w, http.StatusBadRequest, "ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.")
			return
		}
	case "", "RAW":
		sum := sha256.Sum256(in.Message)
		digest = sum[:]
	default:
		fail(w, http.StatusBadRequest, "ValidationException", "unknown MessageType "+in.MessageType)
		return
	}
	if len(in.Message) == 0 || len(in.Message) > 4096 {
		fail(w, http.StatusBadRequest, "ValidationException", "Message must be 1 to 4096 bytes")
		return
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
	if err != nil {
		fail(w, http.StatusInternalServerError, "KMSInternalException", err.Error())
		return
	}
	s.signs.Add(1)
	reply(w, map[string]any{"KeyId": ARN(id), "Signature": sig, "SigningAlgorithm": "ECDSA_SHA_256"})
}
