// Command zipbootstrap packs Lambda bootstrap binaries into deployment zips
// and prints their sizes, so that `make lambdas` needs no zip tool:
//
//	go run ./infra/zipbootstrap dist/patient/bootstrap dist/provider/bootstrap …
//
// For each DIR/NAME/bootstrap it writes DIR/NAME.zip holding one entry,
// "bootstrap", executable (0755), as the provided.al2023 runtime expects. The
// zips are reproducible: the same binary always gives the same bytes (a
// fixed modification time), so an unchanged function is not redeployed.
package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// modified is the time stamped on every entry: the earliest a zip's DOS
// date can hold.
var modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: zipbootstrap DIR/NAME/bootstrap... (writes DIR/NAME.zip for each)")
		os.Exit(2)
	}
	fmt.Printf("%-28s %12s %12s\n", "function zip", "bootstrap", "zip")
	for _, bin := range os.Args[1:] {
		zipPath, binSize, zipSize, err := pack(bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "zipbootstrap:", err)
			os.Exit(1)
		}
		fmt.Printf("%-28s %12s %12s\n", zipPath, size(binSize), size(zipSize))
	}
}

// zipPathFor is where the zip of DIR/NAME/bootstrap goes: DIR/NAME.zip.
func zipPathFor(bin string) (string, error) {
	if filepath.Base(bin) != "bootstrap" {
		return "", fmt.Errorf("%s: the binary must be named bootstrap", bin)
	}
	fn := filepath.Dir(bin)
	if filepath.Base(fn) == "." || filepath.Base(fn) == string(filepath.Separator) {
		return "", fmt.Errorf("%s: want DIR/NAME/bootstrap", bin)
	}
	return fn + ".zip", nil
}

// pack writes the zip of bin and returns its path and both sizes.
func pack(bin string) (zipPath string, binSize, zipSize int64, err error) {
	zipPath, err = zipPathFor(bin)
	if err != nil {
		return "", 0, 0, err
	}
	in, err := os.Open(bin)
	if err != nil {
		return "", 0, 0, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", 0, 0, err
	}
	if !st.Mode().IsRegular() {
		return "", 0, 0, fmt.Errorf("%s is not a regular file", bin)
	}
	tmp, err := os.CreateTemp(filepath.Dir(zipPath), ".zipbootstrap-*")
	if err != nil {
		return "", 0, 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	zw := zip.NewWriter(tmp)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: modified}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, 0, errors.Join(fmt.Errorf("writing %s", zipPath), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", 0, 0, err
	}
	if err := os.Rename(tmp.Name(), zipPath); err != nil {
		return "", 0, 0, err
	}
	zst, err := os.Stat(zipPath)
	if err != nil {
		return "", 0, 0, err
	}
	return zipPath, st.Size(), zst.Size(), nil
}

func size(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
