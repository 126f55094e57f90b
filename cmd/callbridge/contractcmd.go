package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/callbridge/callbridge/bridge"
	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/contract"
)

// contractCommand writes the event contract (SPEC §9) for the configuration: callbridge contract
// -out DIR. The files are the ones the bridge serves.
func contractCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("contract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "folder to write asyncapi.yaml and schemas/ into (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: callbridge contract -out DIR (the configured sink and templates: see callbridge env)")
		return 2
	}
	cfg, err := config.Load(providerSpecs())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	reg, err := bridge.NewRegistry(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	files, err := contract.Build(reg, contract.SinkOf(cfg, version))
	if err == nil {
		err = files.Write(*out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "callbridge contract:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and %d schemas to %s\n", contract.AsyncAPIFile, len(files.Paths())-1, *out)
	return 0
}
