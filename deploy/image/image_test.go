package main

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestImage builds the image as `go run ./image -out DIR` does, reads it back from both outputs
// and checks what the SPEC (§8) promises about it.
func TestImage(t *testing.T) {
	dir := t.TempDir()
	digest, info, err := build("../..", dir, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s, version %s", digest, info.Version)

	img := fromLayout(t, dir, info.Version)
	if d, _ := img.Digest(); d.String() != digest {
		t.Errorf("layout holds %s, build reported %s", d, digest)
	}
	fromTar, err := tarball.ImageFromPath(filepath.Join(dir, "image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// image.tar (docker save's format) keeps the config and layers but not the manifest, which a
	// loader writes anew: the same image is the same config and the same layers.
	sameImage(t, img, fromTar)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cf, info)
	files := extract(t, img)
	checkFiles(t, files)
	checkStatic(t, files["callbridge"].body)
	checkVersion(t, files["callbridge"].body, info)

	// Reproducible: the same commit builds the same image.
	again, _, err := build("../..", t.TempDir(), runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	if again != digest {
		t.Errorf("second build gave %s, first %s: the image is not reproducible", again, digest)
	}
}

func fromLayout(t *testing.T, dir, version string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout lists %d manifests, want 1", len(m.Manifests))
	}
	// The OCI spec's ref.name is the tag alone (skopeo's oci:DIR:TAG reads it so).
	if ref, want := m.Manifests[0].Annotations["org.opencontainers.image.ref.name"], tagSafe(version); ref != want {
		t.Errorf("ref.name annotation %q, want %q", ref, want)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkConfig(t *testing.T, cf *v1.ConfigFile, info buildInfo) {
	t.Helper()
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/callbridge"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want [/callbridge] and no cmd (serve is the default)", c.Entrypoint, c.Cmd)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v, want only 8080/tcp", c.ExposedPorts)
	}
	if !slices.Contains(c.Env, "CALLBRIDGE_DATA_DIR=/data") {
		t.Errorf("env %q lacks CALLBRIDGE_DATA_DIR=/data", c.Env)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	for _, k := range []string{"title", "source", "version", "revision", "created"} {
		if c.Labels["org.opencontainers.image."+k] == "" {
			t.Errorf("label org.opencontainers.image.%s missing", k)
		}
	}
	if got := c.Labels["org.opencontainers.image.version"]; got != info.Version {
		t.Errorf("version label %q, want %q", got, info.Version)
	}
}

func sameImage(t *testing.T, layoutImg, tarImg v1.Image) {
	t.Helper()
	c1, err1 := layoutImg.ConfigName()
	c2, err2 := tarImg.ConfigName()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Errorf("image.tar has config %s, the layout %s", c2, c1)
	}
	l1, err1 := layoutImg.Layers()
	l2, err2 := tarImg.Layers()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if len(l1) != len(l2) {
		t.Fatalf("image.tar has %d layers, the layout %d", len(l2), len(l1))
	}
	for i := range l1 {
		d1, _ := l1[i].Digest()
		d2, _ := l2[i].Digest()
		if d1 != d2 {
			t.Errorf("layer %d: image.tar %s, layout %s", i, d2, d1)
		}
	}
}

type file struct {
	hdr  *tar.Header
	body []byte
}

// extract flattens the image's layers as a runtime would.
func extract(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]file{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(path.Clean(h.Name), "/")] = file{h, body}
	}
	return files
}

func checkFiles(t *testing.T, files map[string]file) {
	t.Helper()
	type want struct {
		mode     fs.FileMode
		uid, gid int
	}
	expected := map[string]want{
		"callbridge":                        {0o755, 0, 0},
		"etc":                               {fs.ModeDir | 0o755, 0, 0},
		"etc/passwd":                        {0o644, 0, 0},
		"etc/group":                         {0o644, 0, 0},
		"etc/ssl":                           {fs.ModeDir | 0o755, 0, 0},
		"etc/ssl/certs":                     {fs.ModeDir | 0o755, 0, 0},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0},
		"home":                              {fs.ModeDir | 0o755, 0, 0},
		"home/nonroot":                      {fs.ModeDir | 0o700, 65532, 65532},
		"tmp":                               {fs.ModeDir | fs.ModeSticky | 0o777, 0, 0},
		"data":                              {fs.ModeDir | 0o755, 65532, 65532},
	}
	for name, f := range files {
		w, ok := expected[name]
		if !ok {
			// Catches a shell, a package manager or anything else that creeps in.
			t.Errorf("unexpected file %s in the image", name)
			continue
		}
		if got := f.hdr.FileInfo().Mode(); got != w.mode {
			t.Errorf("%s: mode %v, want %v", name, got, w.mode)
		}
		if f.hdr.Uid != w.uid || f.hdr.Gid != w.gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", name, f.hdr.Uid, f.hdr.Gid, w.uid, w.gid)
		}
	}
	for name := range expected {
		if _, ok := files[name]; !ok {
			t.Errorf("%s missing from the image", name)
		}
	}
	for _, sh := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/sh"} {
		if _, ok := files[sh]; ok {
			t.Errorf("the image has a shell: /%s", sh)
		}
	}
	if !strings.Contains(string(files["etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no user 65532:\n%s", files["etc/passwd"].body)
	}
	if !strings.Contains(string(files["etc/group"].body), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no group 65532:\n%s", files["etc/group"].body)
	}
	// /data is writable by the user, /tmp by everyone; nothing else is.
	for name, f := range files {
		m := f.hdr.FileInfo().Mode()
		writable := (f.hdr.Uid == 65532 && m&0o200 != 0) || m&0o002 != 0
		if writable != (name == "data" || name == "tmp" || name == "home/nonroot") {
			t.Errorf("%s: writable by 65532 is %v", name, writable)
		}
	}
	checkCABundle(t, files["etc/ssl/certs/ca-certificates.crt"].body)
}

func checkCABundle(t *testing.T, pemBytes []byte) {
	t.Helper()
	n := 0
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("CA bundle: certificate %d: %v", n, err)
		}
		n++
	}
	// Mozilla's store has about 150 roots; a handful would mean a broken bundle.
	if n < 100 {
		t.Errorf("CA bundle holds %d certificates, want Mozilla's store (over 100)", n)
	}
}

// checkStatic fails unless the binary runs without a dynamic loader: the image has none.
func checkStatic(t *testing.T, bin []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("/callbridge is not an ELF file: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("/callbridge has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("/callbridge has a .dynamic section: it is dynamically linked")
	}
}

// checkVersion runs the image's binary: `callbridge version` names the stamped version and commit.
func checkVersion(t *testing.T, bin []byte, info buildInfo) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs only on linux")
	}
	p := filepath.Join(t.TempDir(), "callbridge")
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("callbridge version: %v\n%s", err, out)
	}
	want := "callbridge " + info.Version + " commit " + info.Revision + " "
	if info.Revision == "" {
		want = "callbridge " + info.Version + " commit unknown "
	}
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("callbridge version printed %q, want it to start with %q", out, want)
	}
}
