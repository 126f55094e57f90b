// Command bare is the floor bench/baseline.sh measures the bridge against: a fasthttp server
// that answers every request 200 {"code":0} and does nothing else (no verification, no broker).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18090", "address to listen on")
	flag.Parse()
	reply := []byte(`{"code":0}`)
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
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
