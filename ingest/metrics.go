package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are resolved per provider once, so the request path touches no label maps.
type metrics struct {
	callbacks      *prometheus.CounterVec
	verify         *prometheus.CounterVec
	publishSeconds prometheus.Histogram
	tooLarge       prometheus.Counter
	panics         prometheus.Counter
	registry       *prometheus.Registry
	byProvider     map[string]*providerMetrics
}

type providerMetrics struct {
	published, probes, unauthorized, deadLettered, publishFailed, overloaded prometheus.Counter
	verifyFailures                                                           prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbridge_callbacks_total",
			Help: "Callbacks answered, by provider and outcome.",
		}, []string{"provider", "outcome"}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbridge_verification_failures_total",
			Help: "Failed signature or replay checks, including those accepted in report mode.",
		}, []string{"provider"}),
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "callbridge_publish_seconds",
			Help:    "Time from handing an event to the sink to its broker acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}),
		tooLarge: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_body_too_large_total",
			Help: "Requests refused with 413.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_panics_total",
			Help: "Requests that panicked and were answered 500.",
		}),
		registry:   reg,
		byProvider: map[string]*providerMetrics{},
	}
	reg.MustRegister(m.callbacks, m.verify, m.publishSeconds, m.tooLarge, m.panics)
	return m
}

func (m *metrics) inflightFunc(f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callbridge_inflight_callbacks",
		Help: "Callbacks being handled now.",
	}, f))
}

// register resolves one provider's counters; call it for every route before serving.
func (m *metrics) register(provider string) {
	c := func(outcome string) prometheus.Counter { return m.callbacks.WithLabelValues(provider, outcome) }
	m.byProvider[provider] = &providerMetrics{
		published:      c("published"),
		probes:         c("url_check"),
		unauthorized:   c("unauthorized"),
		deadLettered:   c("dead_lettered"),
		publishFailed:  c("publish_failed"),
		overloaded:     c("overloaded"),
		verifyFailures: m.verify.WithLabelValues(provider),
	}
}

func (m *metrics) forProvider(provider string) *providerMetrics { return m.byProvider[provider] }
