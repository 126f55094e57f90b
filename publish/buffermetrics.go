package publish

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bufferMetrics are the buffer's metrics (SPEC §7): its size and age as of the last poll, how
// forwarding goes, and what the target can never take (the dead stream).
type bufferMetrics struct {
	forwardErrors  prometheus.Counter
	forwardSeconds prometheus.Histogram
	refused        prometheus.Counter
	dead           prometheus.Counter
}

func newBufferMetrics(reg prometheus.Registerer, b *Buffer) bufferMetrics {
	m := bufferMetrics{
		forwardErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_forward_errors_total",
			Help: "Failed attempts to forward a buffered event to the sink (each retry counts).",
		}),
		forwardSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "callbridge_forward_seconds",
			Help:    "Time from an event's buffering to the sink's acknowledgement of it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 12),
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_buffer_refused_total",
			Help: "Events refused because the buffer was full (answered 503).",
		}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callbridge_buffer_dead_total",
			Help: "Buffered entries the broker can never take (too large, name too long, unreadable), moved to the buffer's dead stream BUFFER_DEAD.",
		}),
	}
	if reg == nil {
		return m
	}
	stat := func(f func(*bufferStats) float64) func() float64 {
		return func() float64 {
			if st := b.stats.Load(); st != nil {
				return f(st)
			}
			return 0
		}
	}
	reg.MustRegister(m.forwardErrors, m.forwardSeconds, m.refused, m.dead,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "callbridge_buffer_dead_messages",
			Help: "Entries kept in the buffer's dead stream BUFFER_DEAD, never purged: an operator reads and recovers them (docs/delivery.md, buffer mode).",
		}, stat(func(s *bufferStats) float64 { return float64(s.dead) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "callbridge_buffer_messages",
			Help: "Events (and dead letters) buffered and not yet forwarded.",
		}, stat(func(s *bufferStats) float64 { return float64(s.messages) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "callbridge_buffer_bytes",
			Help: "Bytes the buffer holds on disk.",
		}, stat(func(s *bufferStats) float64 { return float64(s.bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "callbridge_buffer_oldest_age_seconds",
			Help: "Age of the oldest event not yet forwarded; 0 when the buffer is empty.",
		}, stat(func(s *bufferStats) float64 {
			if s.oldest.IsZero() {
				return 0
			}
			return time.Since(s.oldest).Seconds()
		})),
	)
	return m
}
