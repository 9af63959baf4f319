//go:build race

package testutil

// RaceEnabled is true under the race detector, where wall-clock ratios
// measure the instrumentation, not chatauth: tests report them instead of
// checking them.
const RaceEnabled = true
