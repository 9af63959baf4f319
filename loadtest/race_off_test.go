//go:build loadtest && !race

package loadtest

// defaultAttackKeys is TestBoundedMemoryUnderAttack's keys per structure:
// 100,000 distinct attacker-chosen keys each.
const defaultAttackKeys = 100000
