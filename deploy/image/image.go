package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Port is the container port of CALLBRIDGE_LISTEN's default, :8080.
const Port = "8080/tcp"

// source is the repository named in the image's labels.
const source = "https://github.com/callbridge/callbridge"

// assemble builds the image from the binary at binary: a base layer (user, CA roots, writable
// directories) and a layer with only the binary, so an upgrade of callbridge changes one layer.
func assemble(binary, goarch string, info buildInfo) (v1.Image, error) {
	base, err := layerTar(baseEntries(), info.Created)
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	app, err := layerTar([]entry{{name: binaryPath, mode: 0o755, body: bin}}, info.Created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, tarBytes := range [][]byte{base, app} {
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(tarBytes)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: info.Created}, CreatedBy: "deploy/image"},
		}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch
	cf.Created = v1.Time{Time: info.Created}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", uid, gid),
		Entrypoint:   []string{"/" + binaryPath},
		WorkingDir:   "/" + dataDir,
		ExposedPorts: map[string]struct{}{Port: {}},
		// The binary's default ./data would be relative to the working directory; name it outright
		// so the store is in the volume whatever the working directory.
		Env:    []string{"CALLBRIDGE_DATA_DIR=/" + dataDir},
		Labels: labels(info),
	}
	return mutate.ConfigFile(img, cf)
}

// labels are the OCI pre-defined annotation keys, as image labels.
func labels(info buildInfo) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "callbridge",
		"org.opencontainers.image.description": "Receives RTC provider webhooks, verifies them and publishes CloudEvents to NATS JetStream or Kafka",
		"org.opencontainers.image.source":      source,
		"org.opencontainers.image.url":         source,
		"org.opencontainers.image.version":     info.Version,
		"org.opencontainers.image.created":     info.Created.Format("2006-01-02T15:04:05Z"),
	}
	if info.Revision != "" {
		l["org.opencontainers.image.revision"] = info.Revision
	}
	return l
}

// write stores img in dir as an OCI image layout, and as dir/image.tar in the tarball format that
// `docker load` and `crane push` read, tagged callbridge:<version>.
func write(dir string, img v1.Image, info buildInfo) (v1.Hash, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return v1.Hash{}, err
	}
	// A fresh layout each time: appending to an old one would list every earlier build.
	for _, stale := range []string{"index.json", "oci-layout", "blobs", "image.tar"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return v1.Hash{}, err
		}
	}
	tag, err := name.NewTag("callbridge:" + tagSafe(info.Version))
	if err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag.TagStr(),
	})); err != nil {
		return v1.Hash{}, err
	}
	if err := tarball.WriteToFile(filepath.Join(dir, "image.tar"), tag, img); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

// tagSafe maps a version to a valid tag: [A-Za-z0-9_.-], at most 128 characters.
func tagSafe(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}
