package bridge

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/callbridge/callbridge/config"
	"github.com/callbridge/callbridge/normalize"
	"github.com/callbridge/callbridge/publish"
)

// Each route carries its provider's publish timeout only when it is shorter than
// CALLBRIDGE_PUBLISH_TIMEOUT: the defaults Zoom and OvenMediaEngine declare, a value set for any
// provider or generic source; 0 (the sink's own timeout) otherwise.
func TestRoutesPublishTimeout(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want map[string]time.Duration // by provider id
	}{
		{name: "defaults", want: map[string]time.Duration{"zoom": 2500 * time.Millisecond, "ovenmediaengine": 2500 * time.Millisecond, "anyrtc": 0, "orders": 0}},
		{name: "set", env: map[string]string{"CALLBRIDGE_ZOOM_PUBLISH_TIMEOUT": "0", "CALLBRIDGE_ANYRTC_PUBLISH_TIMEOUT": "1s", "CALLBRIDGE_WEBHOOK_ORDERS_PUBLISH_TIMEOUT": "4s"},
			want: map[string]time.Duration{"zoom": 0, "ovenmediaengine": 2500 * time.Millisecond, "anyrtc": time.Second, "orders": 4 * time.Second}},
		{name: "a lower global", env: map[string]string{"CALLBRIDGE_PUBLISH_TIMEOUT": "2s"},
			want: map[string]time.Duration{"zoom": 0, "ovenmediaengine": 0, "anyrtc": 0, "orders": 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CALLBRIDGE_WEBHOOK_SOURCES", "orders")
			t.Setenv("CALLBRIDGE_WEBHOOK_ORDERS_SECRET", "whsec_b3JkZXJzLXNlY3JldA==")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Load(ProviderSpecs())
			if err != nil {
				t.Fatal(err)
			}
			registry, err := NewRegistry(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := routes(cfg, registry, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]time.Duration{}
			for _, r := range rs {
				if _, ok := tt.want[r.Provider.ID]; ok {
					got[r.Provider.ID] = r.PublishTimeout
				}
			}
			for id, want := range tt.want {
				if d, ok := got[id]; !ok || d != want {
					t.Errorf("%s: route timeout %v (route found: %t), want %v", id, d, ok, want)
				}
			}
		})
	}
}

// within is a target that records how it was asked to publish.
type within struct {
	publish.Target
	given []time.Duration // 0: Publish
}

func (w *within) Publish(*normalize.Event) error { w.given = append(w.given, 0); return nil }

func (w *within) PublishWithin(_ *normalize.Event, d time.Duration) error {
	w.given = append(w.given, d)
	return nil
}

// plain is a target without PublishWithin.
type plain struct{ *within }

func (p plain) PublishWithin() {} // hides within's: plain is no publish.Within

// lateSink forwards PublishWithin to a target that has it, Publish to one that has not, and
// says it is still connecting before it has a target.
func TestLateSinkPublishWithin(t *testing.T) {
	var l lateSink
	if err := l.PublishWithin(&normalize.Event{}, time.Second); !errors.Is(err, errConnecting) {
		t.Errorf("before the broker: %v, want errConnecting", err)
	}
	w := &within{}
	l.set(w)
	l.PublishWithin(&normalize.Event{}, time.Second)
	l.set(plain{w})
	l.PublishWithin(&normalize.Event{}, time.Second)
	if want := []time.Duration{time.Second, 0}; !slices.Equal(w.given, want) {
		t.Errorf("target given %v, want %v", w.given, want)
	}
}
