// Command bare is the floor bench/baseline.sh measures the bridge against: a fasthttp server
// that answers every request 200 {"code":0} and does nothing else (no verification, no broker).
//
// With -delay it waits that long before each answer, on a timer, and still does nothing else:
// a second floor, for what answering after a broker's round trip costs by itself. A server
// that waits has fewer answers ready each time it wakes, so it pays more system calls,
// wake-ups and scheduling per request than one that answers at once (BENCHMARKS.md).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18090", "address to listen on")
	delay := flag.Duration("delay", 0, "wait this long before each answer")
	flag.Parse()
	reply := []byte(`{"code":0}`)
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if *delay > 0 {
				time.Sleep(*delay)
			}
			ctx.SetContentType("application/json")
			ctx.SetBody(reply)
		},
		Name: "bare",
	}
	if err := s.ListenAndServe(*listen); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
