package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileMatchesImage keeps deploy/Dockerfile the equivalent of this builder, since no
// Docker daemon is here to build it: same base user, port, entrypoint, data directory and build
// flags.
func TestDockerfileMatchesImage(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		"EXPOSE " + Port,
		`ENTRYPOINT ["/` + binaryPath + `"]`,
		"ENV CALLBRIDGE_DATA_DIR=/" + dataDir,
		"--chown=65532:65532 /out/data /" + dataDir,
		"CGO_ENABLED=0 go build -trimpath -buildvcs=false",
		"-X main.version=${VERSION} -X main.revision=${REVISION}",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The Go image must be the toolchain go.mod asks for.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil || !strings.Contains(df, "FROM golang:"+string(goVersion[1])+" AS build") {
		t.Errorf("Dockerfile's build stage is not golang:<go.mod's go version>")
	}
}
