//go:build loadtest && race

package loadtest

// defaultAttackKeys is TestBoundedMemoryUnderAttack's keys per structure
// under the race detector, which makes each request several times slower:
// enough to check every answer with the detector on. make test runs the
// test again without it, with 100,000 keys (see the Makefile).
const defaultAttackKeys = 10000
