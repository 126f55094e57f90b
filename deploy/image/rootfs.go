package main

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"io/fs"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The image's only user. 65532 is distroless's "nonroot", so volumes and securityContexts written
// for distroless images fit this one too.
const (
	uid      = 65532
	gid      = 65532
	userName = "nonroot"
)

// Paths in the image.
const (
	binaryPath = "callbridge"
	caPath     = "etc/ssl/certs/ca-certificates.crt" // where Go's crypto/x509 looks first on Linux
	dataDir    = "data"                              // CALLBRIDGE_DATA_DIR
)

// entry is one file or directory of a layer.
type entry struct {
	name     string
	mode     fs.FileMode // permission bits, plus fs.ModeDir or fs.ModeSticky
	uid, gid int
	body     []byte
}

// baseEntries are the files every callbridge image has besides the binary: the user, CA roots and
// the two writable directories. There is no shell and no package manager: nothing that an
// attacker with code execution could use, and nothing that needs patching.
func baseEntries() []entry {
	dir := func(name string, mode fs.FileMode, owner int) entry {
		return entry{name: name, mode: fs.ModeDir | mode, uid: owner, gid: owner}
	}
	file := func(name string, body []byte) entry { return entry{name: name, mode: 0o644, body: body} }
	return []entry{
		dir("etc", 0o755, 0),
		file("etc/passwd", []byte("root:x:0:0:root:/root:/sbin/nologin\n"+
			userName+":x:65532:65532:"+userName+":/home/"+userName+":/sbin/nologin\n")),
		file("etc/group", []byte("root:x:0:\n"+userName+":x:65532:\n")),
		dir("etc/ssl", 0o755, 0),
		dir("etc/ssl/certs", 0o755, 0),
		file(caPath, caBundle()),
		dir("home", 0o755, 0),
		dir("home/"+userName, 0o700, uid),
		// /tmp as on any Linux: everyone may write, only the owner may delete.
		dir("tmp", fs.ModeSticky|0o777, 0),
		// The embedded JetStream store (CALLBRIDGE_DATA_DIR); in Kubernetes a volume is mounted here.
		dir(dataDir, 0o755, uid),
	}
}

// caBundle is Mozilla's root store as shipped by the Go module golang.org/x/crypto/x509roots/fallback,
// PEM-encoded. The module is pinned by go.sum, so every machine builds the same bundle and the
// image digest does not depend on the host's ca-certificates package. Roots that NSS trusts only
// for certificates issued before a date are left out: a PEM file cannot carry that constraint, so
// including them would trust them for more than NSS does.
func caBundle() []byte {
	var b bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})
	}
	return b.Bytes()
}

// layerTar writes entries as an uncompressed tar stream with every timestamp at modTime and no
// user or group names, so the bytes depend only on the entries.
func layerTar(entries []entry, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    int64(e.mode.Perm()),
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: modTime,
			Format:  tar.FormatPAX,
		}
		if e.mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		if e.mode.IsDir() {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
