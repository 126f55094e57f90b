package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are resolved per provider once, so the request path touches no label maps.
type metrics struct {
	callbacks      *prometheus.CounterVec
	verify         *prometheus.CounterVec
	publishSeconds prometheus.Histogram
	rejections     *prometheus.CounterVec
	panics         prometheus.Counter
	registry       *prometheus.Registry
	byProvider     map[string]*providerMetrics
}

type providerMetrics struct {
	published, probes, unauthorized, deadLettered, publishFailed, overloaded, tooLarge, invalid prometheus.Counter
	verifyFailures                                                                              prometheus.Counter
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
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbridge_http_rejections_total",
			Help: "Requests refused at the HTTP layer, before any provider saw them, by reason: not_found, method_not_allowed, body_too_large, headers_too_large, malformed, timeout, body_memory.",
		}, []string{"reason"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_panics_total",
			Help: "Requests that panicked and were answered 500.",
		}),
		registry:   reg,
		byProvider: map[string]*providerMetrics{},
	}
	reg.MustRegister(m.callbacks, m.verify, m.publishSeconds, m.rejections, m.panics)
	for _, r := range rejectionReasons {
		m.rejections.WithLabelValues(r) // every series exists from the start, at 0
	}
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
		tooLarge:       c("too_large"),
		invalid:        c("invalid"),
		verifyFailures: m.verify.WithLabelValues(provider),
	}
}

func (m *metrics) forProvider(provider string) *providerMetrics { return m.byProvider[provider] }

// HTTP-layer rejection reasons, the label values of callbridge_http_rejections_total.
const (
	rejectNotFound        = "not_found"
	rejectMethod          = "method_not_allowed"
	rejectBodyTooLarge    = "body_too_large"
	rejectHeadersTooLarge = "headers_too_large"
	rejectMalformed       = "malformed"
	rejectTimeout         = "timeout"
	rejectBodyMemory      = "body_memory"
)

var rejectionReasons = []string{rejectNotFound, rejectMethod, rejectBodyTooLarge, rejectHeadersTooLarge, rejectMalformed, rejectTimeout, rejectBodyMemory}
