//go:build loadtest && race

package loadtest

// raceEnabled: the race detector slows everything several times, unevenly,
// so latency ratios are reported under -race but asserted only without it.
const raceEnabled = true
