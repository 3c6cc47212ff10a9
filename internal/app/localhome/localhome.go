package localhome

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/goodfaith/goodfaith/internal/app"
	"github.com/goodfaith/goodfaith/internal/blob/dirblob"
	"github.com/goodfaith/goodfaith/internal/clock"
	"github.com/goodfaith/goodfaith/internal/notify"
	"github.com/goodfaith/goodfaith/internal/signer"
	"github.com/goodfaith/goodfaith/internal/store/boltstore"
)

// Files of the local home inside its data folder.
const (
	storeFile         = "goodfaith.db"
	liveStoreFile     = "signal-live.db" // signaling's connections and rooms, not fsynced
	blobDir           = "blobs"
	signingKeyFile    = "pso-signing-key.pem"
	patientSecretFile = "patient-token-secret"
	blobSecretFile    = "blob-url-secret"
)

// BlobsPath is where the local home serves presigned blob URLs.
const BlobsPath = "/blobs/"

// Home is the one-machine home: the embedded store, a blob directory, a
// key file, and the outbox notifier, all under one data folder.
type Home struct {
	Ports app.Ports
	Store *boltstore.Store
	// Live is signaling's connections and rooms (Ports.Live): a file of its
	// own, written without fsync and emptied at every start, because every
	// local socket closes with the process. Its records are ephemeral
	// under any home; here they also cost no disk flush, which kept each
	// signaling step of a call behind other writers' fsyncs.
	Live          *boltstore.Store
	Blobs         *dirblob.Store
	PatientSecret []byte
}

// Open opens (creating on first use) the local home in dir. baseURL is
// where the server is reached (for presigned URLs).
func Open(dir, baseURL string, clk clock.Clock, log *slog.Logger) (*Home, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := boltstore.Open(filepath.Join(dir, storeFile), boltstore.WithClock(clk), boltstore.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// The main file's lock is held: no other process uses this folder, so
	// the previous run's connections (all closed) can go.
	livePath := filepath.Join(dir, liveStoreFile)
	if err := os.Remove(livePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st.Close()
		return nil, fmt.Errorf("reset signaling store: %w", err)
	}
	live, err := boltstore.Open(livePath, boltstore.WithClock(clk), boltstore.WithLogger(log), boltstore.WithoutSync())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open signaling store: %w", err)
	}
	fail := func(err error) (*Home, error) {
		live.Close()
		st.Close()
		return nil, err
	}
	blobSecret, err := secretFile(filepath.Join(dir, blobSecretFile))
	if err != nil {
		return fail(err)
	}
	blobs, err := dirblob.New(filepath.Join(dir, blobDir), dirblob.Options{BaseURL: baseURL + "/blobs", Secret: blobSecret, Clock: clk})
	if err != nil {
		return fail(fmt.Errorf("open blobs: %w", err))
	}
	key, err := signer.LoadOrCreateFileKey(filepath.Join(dir, signingKeyFile))
	if err != nil {
		return fail(fmt.Errorf("signing key: %w", err))
	}
	patientSecret, err := secretFile(filepath.Join(dir, patientSecretFile))
	if err != nil {
		return fail(err)
	}
	return &Home{
		Ports:         app.Ports{Store: st, Live: live, Blobs: blobs, Signer: key, Notifier: notify.Outbox{Store: st, Log: log}},
		Store:         st,
		Live:          live,
		Blobs:         blobs,
		PatientSecret: patientSecret,
	}, nil
}

// BlobHandler serves presigned uploads and downloads under BlobsPath.
func (h *Home) BlobHandler() http.Handler { return h.Blobs.Handler() }

// Close closes the stores.
func (h *Home) Close() error { return errors.Join(h.Live.Close(), h.Store.Close()) }

// secretFile reads a 32-byte secret, creating it (0600) on first use.
func secretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("%s: want 32 bytes, found %d", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return secretFile(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}
