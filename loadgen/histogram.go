package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in nanoseconds, HdrHistogram-style: log-linear buckets, exact
// below 2^histBits ns, and above that every power of two split into 2^(histBits-1) equal
// buckets, so a recorded value is known to within 1/2^(histBits-1) of itself (0.78 %), over the
// whole int64 range, in a fixed 57 KiB of counters and with no allocation per value.
//
// Percentiles report the highest value of the bucket they fall in (as HdrHistogram's
// ValueAtPercentile does), capped at the largest value recorded: never below the true value,
// at most 0.78 % above it. Min and max are exact.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // ns, for the mean
	min, max int64
}

const (
	histBits      = 8
	histSub       = 1 << histBits                    // 256 exact values at the bottom
	histHalf      = histSub / 2                      // buckets per power of two above them
	histBuckets   = histSub + (63-histBits)*histHalf // up to math.MaxInt64
	histPrecision = 1.0 / histHalf                   // relative width of a bucket, the stated precision
)

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < histSub {
		return int(u)
	}
	shift := bits.Len64(u) - histBits
	return histSub + (shift-1)*histHalf + int(u>>shift) - histHalf
}

// bucketRange is the lowest and highest value that fall in bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < histSub {
		return int64(i), int64(i)
	}
	j := i - histSub
	shift := j/histHalf + 1
	top := uint64(j%histHalf + histHalf)
	l := top << shift
	return int64(l), int64(l + 1<<shift - 1)
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

func (h *histogram) reset() { *h = histogram{} }

// quantile returns the value at q (0..1): the highest value of the bucket holding the
// ceil(q·n)-th smallest value, capped at max.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(hi, h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}
