package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPackWritesOneExecutableBootstrapReproducibly(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "patient", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("\x7fELF not really a binary\n"), 1000)
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	zipPath, binSize, zipSize, err := pack(bin)
	if err != nil {
		t.Fatal(err)
	}
	if zipPath != filepath.Join(dir, "patient.zip") || binSize != int64(len(content)) || zipSize <= 0 || zipSize >= binSize {
		t.Fatalf("pack = %s, %d, %d", zipPath, binSize, zipSize)
	}
	first, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("entries %v; want bootstrap only", zr.File)
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 || !f.Mode().IsRegular() {
		t.Errorf("bootstrap mode %v; want an executable regular file", f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("bootstrap content differs (%v)", err)
	}

	if _, _, _, err := pack(bin); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("packing the same binary twice gave different zips")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".zipbootstrap-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestPackRefusesOtherNames(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{filepath.Join(dir, "main"), "bootstrap", filepath.Join(dir, "missing", "bootstrap")} {
		if _, _, _, err := pack(p); err == nil {
			t.Errorf("pack(%q) succeeded", p)
		}
	}
}
