package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// buildInfo is what the image says about the build: stamped into the binary and into the labels.
type buildInfo struct {
	Version  string    // `git describe`, or "dev" outside a git checkout
	Revision string    // the commit, or "" outside a git checkout
	Created  time.Time // SOURCE_DATE_EPOCH, else the commit's time, else the Unix epoch
}

// describe reads the build information of the repository at root. Every field comes from the
// commit (or SOURCE_DATE_EPOCH), never from the clock, so the same commit gives the same image.
func describe(root string) (buildInfo, error) {
	info := buildInfo{Version: "dev", Created: time.Unix(0, 0).UTC()}
	if out, err := git(root, "rev-parse", "HEAD"); err == nil {
		info.Revision = out
		if v, err := git(root, "describe", "--tags", "--always", "--dirty"); err == nil {
			info.Version = v
		}
		if ct, err := git(root, "log", "-1", "--format=%ct"); err == nil {
			if sec, err := strconv.ParseInt(ct, 10, 64); err == nil {
				info.Created = time.Unix(sec, 0).UTC()
			}
		}
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return info, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
		}
		info.Created = time.Unix(sec, 0).UTC()
	}
	return info, nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// buildBinary compiles cmd/callbridge of the repository at root for linux/goarch into dir and
// returns the file: static (CGO_ENABLED=0, so no libc and no dynamic loader is needed in an image
// without one), -trimpath so the build directory does not leak into the binary or change its
// digest, and version and commit stamped with -X (Go's own VCS stamping does not work in git
// worktrees and is off with GOFLAGS=-buildvcs=false; -buildvcs=false here keeps the binary the
// same whichever way the tree was checked out).
func buildBinary(root, dir, goarch string, info buildInfo) (string, error) {
	out := filepath.Join(dir, "callbridge")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+info.Version+" -X main.revision="+info.Revision,
		"-o", out, "./cmd/callbridge")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/callbridge: %v\n%s", err, stderr.Bytes())
	}
	return out, nil
}
