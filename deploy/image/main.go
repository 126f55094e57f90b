// Command image builds callbridge's container image without a container runtime: it compiles the
// static binary and assembles an OCI image around it with go-containerregistry, offline and
// reproducibly (the same commit gives the same digest).
//
//	cd deploy && go run ./image -out DIR
//
// writes an OCI image layout to DIR and the same image to DIR/image.tar, which `docker load -i`
// and `crane push` read. The Dockerfile beside this module builds the equivalent image with Docker.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

func main() {
	out := flag.String("out", "", "directory for the OCI image layout and image.tar (required)")
	root := flag.String("root", "..", "the callbridge repository (the module with cmd/callbridge)")
	goarch := flag.String("arch", runtime.GOARCH, "target architecture (GOARCH)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	digest, info, err := build(*root, *out, *goarch)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("callbridge %s (%s) %s\n%s\n", info.Version, *goarch, digest, filepath.Join(*out, "image.tar"))
}

// build compiles the binary, assembles the image and writes it to out.
func build(root, out, goarch string) (digest string, info buildInfo, err error) {
	info, err = describe(root)
	if err != nil {
		return "", info, err
	}
	tmp, err := os.MkdirTemp("", "callbridge-image-")
	if err != nil {
		return "", info, err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildBinary(root, tmp, goarch, info)
	if err != nil {
		return "", info, err
	}
	img, err := assemble(bin, goarch, info)
	if err != nil {
		return "", info, err
	}
	h, err := write(out, img, info)
	if err != nil {
		return "", info, err
	}
	return h.String(), info, nil
}
