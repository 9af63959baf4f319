//go:build !race

package testutil

// RaceEnabled is false without the race detector (see race_on.go).
const RaceEnabled = false
