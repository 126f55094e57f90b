package loadgen

import (
	"math"
	"sort"
	"testing"
	"time"
)

// TestHistogram: known inputs give known percentiles, within the stated precision (never below
// the exact value, at most histPrecision above it).
func TestHistogram(t *testing.T) {
	seq := func(from, to, step int64) []int64 {
		var v []int64
		for x := from; x <= to; x += step {
			v = append(v, x)
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		values []int64 // ns
		q      float64
		want   int64 // exact percentile (nearest rank)
	}{
		{"one value", []int64{1234567}, 0.5, 1234567},
		{"one value max", []int64{1234567}, 1, 1234567},
		{"small exact", seq(1, 100, 1), 0.5, 50},
		{"small exact p99", seq(1, 100, 1), 0.99, 99},
		{"1..10000 µs p50", seq(1000, 10_000_000, 1000), 0.50, 5_000_000},
		{"1..10000 µs p90", seq(1000, 10_000_000, 1000), 0.90, 9_000_000},
		{"1..10000 µs p99", seq(1000, 10_000_000, 1000), 0.99, 9_900_000},
		{"1..10000 µs p99.9", seq(1000, 10_000_000, 1000), 0.999, 9_990_000},
		{"1..10000 µs max", seq(1000, 10_000_000, 1000), 1, 10_000_000},
		{"1..10000 µs min", seq(1000, 10_000_000, 1000), 0, 1000},
		{"bimodal p50", append(seq(100_000, 100_000, 1), append(make([]int64, 0), seq(1, 98, 1)...)...), 0.5, 50},
		{"one outlier p99.9 of 1000", append(seq(1_000_000, 1_000_000+998, 1), 5*int64(time.Second)), 0.999, 1_000_998},
		{"one outlier max", append(seq(1_000_000, 1_000_000+998, 1), 5*int64(time.Second)), 1, 5 * int64(time.Second)},
		{"an hour", []int64{int64(time.Hour), int64(time.Hour) + 1}, 0.5, int64(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, v := range tc.values {
				h.record(time.Duration(v))
			}
			// The exact nearest-rank percentile, to check the table itself.
			sorted := append([]int64(nil), tc.values...)
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			rank := max(int(math.Ceil(tc.q*float64(len(sorted)))), 1)
			if exact := sorted[rank-1]; exact != tc.want {
				t.Fatalf("table: exact value at %v is %d, not %d", tc.q, exact, tc.want)
			}
			got := int64(h.quantile(tc.q))
			if got < tc.want || float64(got-tc.want) > histPrecision*float64(tc.want) {
				t.Errorf("quantile(%v) = %d, want %d within +%.2f%%", tc.q, got, tc.want, 100*histPrecision)
			}
			if h.n != uint64(len(tc.values)) || int64(h.max) != sorted[len(sorted)-1] || h.min != sorted[0] {
				t.Errorf("n/min/max = %d/%d/%d", h.n, h.min, h.max)
			}
		})
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every bucket's range follows the previous one without gap or overlap, and bucketOf maps
	// both ends back to it.
	prevHi := int64(-1)
	for i := 0; i < histBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d: [%d, %d] after %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d: bucketOf(%d)=%d bucketOf(%d)=%d", i, lo, bucketOf(lo), hi, bucketOf(hi))
		}
		if lo >= histSub && float64(hi-lo+1)/float64(lo) > histPrecision {
			t.Fatalf("bucket %d [%d, %d] is wider than the stated precision", i, lo, hi)
		}
		prevHi = hi
		if hi == math.MaxInt64 {
			break
		}
	}
	if prevHi != math.MaxInt64 {
		t.Fatalf("buckets end at %d", prevHi)
	}

	var a, b histogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	b.record(2 * time.Millisecond)
	a.merge(&b)
	if a.n != 3 || a.min != int64(time.Millisecond) || a.max != int64(3*time.Millisecond) || a.mean() != 2*time.Millisecond {
		t.Errorf("merged: n=%d min=%d max=%d mean=%v", a.n, a.min, a.max, a.mean())
	}
}
