package ingest

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/callbridge/callbridge/publish"
)

// A route with a PublishTimeout (CALLBRIDGE_<ID>_PUBLISH_TIMEOUT shorter than the global one)
// publishes with the sink's PublishWithin and that deadline; a route without one, or a sink
// without PublishWithin, publishes with Publish. A failure within the deadline is 503.
func TestRoutePublishTimeout(t *testing.T) {
	for _, tt := range []struct {
		name       string
		timeout    time.Duration // the route's
		plainSink  bool          // the sink does not implement publish.Within
		publishErr error
		want       time.Duration // what the sink was given: 0 for Publish
		status     int
	}{
		{name: "no timeout: Publish", want: 0, status: 200},
		{name: "timeout: PublishWithin", timeout: 1500 * time.Millisecond, want: 1500 * time.Millisecond, status: 200},
		{name: "timeout, sink fails", timeout: 1500 * time.Millisecond, publishErr: publish.ErrNotReady, want: 1500 * time.Millisecond, status: 503},
		{name: "timeout, sink without PublishWithin", timeout: 1500 * time.Millisecond, plainSink: true, want: 0, status: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(io.Discard)
			routeOf(t, &cfg, "netease-nertc").PublishTimeout = tt.timeout
			sink := &testSink{publishErr: tt.publishErr}
			var s publish.Sink = sink
			if tt.plainSink {
				s = struct{ publish.Sink }{sink} // hides PublishWithin
			}
			f := &fixture{s: New(cfg, s), sink: sink, reg: cfg.Registry}
			play := testdata(t, "netease-nertc/503-play-started.json")
			resp := viaHandle(t, f, newRequest(fasthttp.MethodPost, neteasePath, play, signedNetEase(play)))
			if resp.StatusCode() != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode(), tt.status, resp.Body())
			}
			sink.mu.Lock()
			given := slices.Clone(sink.given)
			sink.mu.Unlock()
			if want := []time.Duration{tt.want}; !slices.Equal(given, want) {
				t.Errorf("sink given %v, want %v", given, want)
			}
		})
	}
}
