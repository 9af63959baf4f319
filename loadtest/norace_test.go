//go:build loadtest && !race

package loadtest

// raceEnabled: see race_test.go.
const raceEnabled = false
