package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/callbridge/callbridge/config"
)

const envUsage = `usage: callbridge env [-o table|json]

Prints every CALLBRIDGE_* variable the bridge reads: its type, default, current value in this
environment and what it does. Secrets show only whether they are set ("(set)", "(set from
file)"); URLs show no credentials.

  -o table   a block per variable, fitted to the terminal ($COLUMNS, 80 to 120; default 100)
  -o json    one JSON array of {name, type, default, description, secret, current}, for tools
`

// envCommand is `callbridge env`.
func envCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	format := fs.String("o", "table", "output: table or json")
	if code, ok := parseFlags(fs, envUsage, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || (*format != "table" && *format != "json") {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "callbridge env: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintf(stderr, "callbridge env: -o %q: want table or json\n", *format)
		}
		fmt.Fprint(stderr, envUsage)
		return 2
	}
	specs := providerSpecs()
	cfg, err := config.Load(specs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *format == "json" {
		err = config.WriteEnvJSON(stdout, cfg, specs)
	} else {
		columns, _ := strconv.Atoi(os.Getenv("COLUMNS"))
		err = config.WriteEnv(stdout, cfg, specs, config.EnvWidth(columns))
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// parseFlags parses args into fs. -h prints usage on stdout (exit 0); a flag fs does not know,
// or a value it refuses, prints the error and usage on stderr (exit 2). ok is whether to go on.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, where it belongs
	switch err := fs.Parse(args); {
	case err == flag.ErrHelp:
		fmt.Fprint(stdout, usage)
		return 0, false
	case err != nil:
		fmt.Fprint(stderr, usage)
		return 2, false
	}
	return 0, true
}
