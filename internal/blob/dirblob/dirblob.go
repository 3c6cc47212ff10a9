package dirblob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/blob"
	"github.com/goodfaith/goodfaith/internal/clock"
)

// DefaultMaxUploadSize is the largest presigned upload when Options leaves
// MaxUploadSize at zero. The Handler holds an upload in memory before it
// stores it, so the cap also bounds the memory one request can take.
const DefaultMaxUploadSize int64 = 32 << 20

// MaxPresignTTL is the longest life of a presigned URL, as on S3 (SigV4
// presigned URLs live at most seven days).
const MaxPresignTTL = 7 * 24 * time.Hour

// minSecretLen is the shortest HMAC secret accepted: 256 bits, the size of
// the HMAC-SHA256 output.
const minSecretLen = 32

// Options configure a Store.
type Options struct {
	// BaseURL is the absolute URL where Handler is served, e.g.
	// http://127.0.0.1:8080/blobs; presigned URLs are BaseURL/KEY?….
	BaseURL string
	// Secret is the HMAC-SHA256 key of presigned URLs, at least 32 bytes.
	// Keep it stable across restarts, or URLs handed out before stop working.
	Secret []byte
	// Clock tells retention and expiry; nil means clock.System.
	Clock clock.Clock
	// MaxUploadSize caps presigned uploads; zero means DefaultMaxUploadSize.
	MaxUploadSize int64
}

// Store is a blob.Store on a local directory.
type Store struct {
	root      string // absolute
	objects   string // root/objects
	tmp       string // root/tmp
	base      *url.URL
	secret    []byte
	clock     clock.Clock
	maxUpload int64

	// locks serialise Put's commit and Delete per key (striped by key hash),
	// see the package comment.
	locks [64]sync.Mutex
}

var _ blob.Store = (*Store)(nil)

// New opens (creating if needed) the directory dir as a Store.
func New(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("dirblob: no directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("dirblob: %w", err)
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("dirblob: base URL: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fmt.Errorf("dirblob: base URL %q must be an absolute http(s) URL without user, query or fragment", opts.BaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	if len(opts.Secret) < minSecretLen {
		return nil, fmt.Errorf("dirblob: the presigning secret must be at least %d bytes", minSecretLen)
	}
	c := opts.Clock
	if c == nil {
		c = clock.System{}
	}
	maxUpload := opts.MaxUploadSize
	if maxUpload == 0 {
		maxUpload = DefaultMaxUploadSize
	}
	if maxUpload < 0 {
		return nil, errors.New("dirblob: negative MaxUploadSize")
	}
	s := &Store{
		root:      root,
		objects:   filepath.Join(root, "objects"),
		tmp:       filepath.Join(root, "tmp"),
		base:      base,
		secret:    append([]byte(nil), opts.Secret...),
		clock:     c,
		maxUpload: maxUpload,
	}
	for _, d := range []string{root, s.objects, s.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("dirblob: %w", err)
		}
	}
	return s, nil
}

// meta is the sidecar of one object.
type meta struct {
	Key         string     `json:"key"`
	Data        string     `json:"data"` // file name in the sidecar's directory
	SHA256      string     `json:"sha256"`
	Size        int64      `json:"size"`
	ContentType string     `json:"content_type"`
	RetainUntil *time.Time `json:"retain_until,omitempty"`
	Created     time.Time  `json:"created"`
}

func (m *meta) object() blob.Object {
	o := blob.Object{Key: m.Key, SHA256: m.SHA256, Size: m.Size, ContentType: m.ContentType}
	if m.RetainUntil != nil {
		o.RetainUntil = m.RetainUntil.UTC()
	}
	return o
}

// paths returns the shard directory of key, and the name its sidecar has
// in it (without ".json").
func (s *Store) paths(key string) (dir, name string) {
	sum := sha256.Sum256([]byte(key))
	name = hex.EncodeToString(sum[:])
	return filepath.Join(s.objects, name[:2]), name
}

func (s *Store) lock(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on the platforms Go supports.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Put writes a new object; blob.ErrExists if the key holds one.
func (s *Store) Put(ctx context.Context, in blob.PutInput) (blob.Object, error) {
	if !blob.ValidKey(in.Key) {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, blob.ErrInvalidKey)
	}
	ct, err := blob.NormalizeContentType(in.ContentType)
	if err != nil {
		return blob.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Object{}, err
	}
	now := s.clock.Now()
	m := meta{
		Key:         in.Key,
		Size:        int64(len(in.Body)),
		ContentType: ct,
		Created:     now.UTC(),
	}
	if !in.RetainUntil.IsZero() {
		r := blob.RetentionDate(in.RetainUntil)
		if !r.After(now) {
			return blob.Object{}, fmt.Errorf("dirblob: put %q: retain-until %s is not in the future", in.Key, r.Format(time.RFC3339))
		}
		m.RetainUntil = &r
	}
	sum := sha256.Sum256(in.Body)
	m.SHA256 = hex.EncodeToString(sum[:])

	dir, name := s.paths(in.Key)
	metaPath := filepath.Join(dir, name+".json")
	// Refuse early, without writing anything, when the key is plainly taken;
	// the link below is what decides a race.
	if _, err := os.Lstat(metaPath); err == nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, blob.ErrExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}

	m.Data = name + "." + randomHex(8) + ".data"
	dataPath := filepath.Join(dir, m.Data)
	if err := writeNewFile(dataPath, in.Body); err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.Remove(dataPath)
		}
	}()
	sidecar, err := json.Marshal(&m)
	if err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}
	tmpPath := filepath.Join(s.tmp, name+"."+randomHex(8)+".json")
	if err := writeNewFile(tmpPath, sidecar); err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}
	defer os.Remove(tmpPath)

	mu := s.lock(in.Key)
	mu.Lock()
	err = os.Link(tmpPath, metaPath)
	mu.Unlock()
	if errors.Is(err, fs.ErrExist) {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, blob.ErrExists)
	}
	if err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: put %q: %w", in.Key, err)
	}
	return m.object(), nil
}

// writeNewFile creates path (failing if it exists), writes b and syncs it, so
// that the bytes are on disk before anything refers to them.
func writeNewFile(path string, b []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir makes a directory's new or removed entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// readMeta reads the sidecar of key; blob.ErrNotFound if there is none.
func (s *Store) readMeta(key string) (*meta, string, error) {
	dir, name := s.paths(key)
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dir, blob.ErrNotFound
	}
	if err != nil {
		return nil, dir, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, dir, fmt.Errorf("sidecar is corrupt: %w", err)
	}
	// The data name must stay inside the shard directory, and the sidecar
	// must be the key's: anything else means the directory was tampered with.
	if m.Key != key || m.Data == "" || filepath.Base(m.Data) != m.Data || !strings.HasPrefix(m.Data, name+".") {
		return nil, dir, errors.New("sidecar does not describe this key")
	}
	return &m, dir, nil
}

// Get reads an object; blob.ErrNotFound if there is none. It checks the bytes
// against the recorded SHA-256, so corruption on disk is an error, not data.
func (s *Store) Get(ctx context.Context, key string) ([]byte, blob.Object, error) {
	if !blob.ValidKey(key) {
		return nil, blob.Object{}, fmt.Errorf("dirblob: get %q: %w", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return nil, blob.Object{}, err
	}
	m, dir, err := s.readMeta(key)
	if err != nil {
		return nil, blob.Object{}, fmt.Errorf("dirblob: get %q: %w", key, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, m.Data))
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted between reading the sidecar and the data.
		return nil, blob.Object{}, fmt.Errorf("dirblob: get %q: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, blob.Object{}, fmt.Errorf("dirblob: get %q: %w", key, err)
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != m.Size || hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil, blob.Object{}, fmt.Errorf("dirblob: get %q: data does not match its recorded size and sha256", key)
	}
	return b, m.object(), nil
}

// Head describes an object; blob.ErrNotFound if there is none.
func (s *Store) Head(ctx context.Context, key string) (blob.Object, error) {
	if !blob.ValidKey(key) {
		return blob.Object{}, fmt.Errorf("dirblob: head %q: %w", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return blob.Object{}, err
	}
	m, _, err := s.readMeta(key)
	if err != nil {
		return blob.Object{}, fmt.Errorf("dirblob: head %q: %w", key, err)
	}
	return m.object(), nil
}

// Delete removes an object; blob.ErrRetained before its retain-until. A
// missing key is not an error, so that a retried Delete succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("dirblob: delete %q: %w", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	mu := s.lock(key)
	mu.Lock()
	defer mu.Unlock()
	m, dir, err := s.readMeta(key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dirblob: delete %q: %w", key, err)
	}
	if m.RetainUntil != nil && s.clock.Now().Before(*m.RetainUntil) {
		return fmt.Errorf("dirblob: delete %q (retained until %s): %w", key, m.RetainUntil.Format(time.RFC3339), blob.ErrRetained)
	}
	_, name := s.paths(key)
	// The sidecar goes first: once it is gone the object is gone, and a
	// crash before the data is removed leaves only an unreferenced file.
	if err := os.Remove(filepath.Join(dir, name+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dirblob: delete %q: %w", key, err)
	}
	if err := os.Remove(filepath.Join(dir, m.Data)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dirblob: delete %q: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("dirblob: delete %q: %w", key, err)
	}
	return nil
}
