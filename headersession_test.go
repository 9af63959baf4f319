package chatauth

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHeaderSessionsBounded feeds the remembered header sessions 100,000
// distinct header hashes, as a client inventing a credential per request
// would (each one the hook accepted): the entries, their bytes and the
// heap stay within the bounds.
func TestHeaderSessionsBounded(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := newHeaderSessions(headerSessionsMaxEntries, headerSessionsMaxBytes)
	token := strings.Repeat("t", 600) // a realistic session token
	big := strings.Repeat("b", 12000) // a four-chunk one
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 100000 {
		tok := token + fmt.Sprint(i)
		if i%50 == 0 {
			tok = big + fmt.Sprint(i)
		}
		c.put(fmt.Sprintf("hash-%07d", i), tok, now.Add(time.Hour), now)
		if entries, bytes := c.size(); entries > headerSessionsMaxEntries || bytes > headerSessionsMaxBytes {
			t.Fatalf("after %d: %d entries, %d bytes", i+1, entries, bytes)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	entries, bytes := c.size()
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 3*headerSessionsMaxBytes {
		t.Errorf("heap grew %d bytes for %d entries of %d bytes, bound %d", grew, entries, bytes, 3*headerSessionsMaxBytes)
	}
	if entries < headerSessionsMaxEntries/10 {
		t.Errorf("only %d entries kept: eviction dropped too much", entries)
	}
	t.Logf("100000 puts: %d entries, %d bytes", entries, bytes)
	runtime.KeepAlive(c)
}

func TestHeaderSessionsExpiryAndDrop(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := newHeaderSessions(4, 1<<20)
	for i := range 4 {
		c.put(fmt.Sprint(i), "token", now.Add(time.Duration(i)*time.Minute), now)
	}
	// Full: the expired entries (0 and 1, at two minutes) go first.
	c.put("new", "token", now.Add(time.Hour), now.Add(2*time.Minute))
	for hash, kept := range map[string]bool{"0": false, "1": false, "2": false, "3": true, "new": true} {
		if _, ok := c.get(hash); ok != kept {
			t.Errorf("entry %s kept = %v, want %v", hash, ok, kept)
		}
	}
	c.drop("3", "another token") // replaced meanwhile: kept
	c.drop("new", "token")
	if _, ok := c.get("3"); !ok {
		t.Error("drop of another token removed the entry")
	}
	if _, ok := c.get("new"); ok {
		t.Error("drop left the entry")
	}
	if c.put("huge", strings.Repeat("x", 1<<19), now.Add(time.Hour), now); true {
		if _, ok := c.get("huge"); ok {
			t.Error("an entry over a quarter of the byte bound was kept")
		}
	}
}
