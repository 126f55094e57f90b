//go:build race

package normalize

// raceEnabled: the race detector is on; sync.Pool then drops items at random, so allocation
// counts of pooled code are not exact.
const raceEnabled = true
