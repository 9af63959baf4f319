package chatauth

// The memory stores are unexported: New makes them, sized by
// Config.Stores. These exports let the external tests (package
// chatauth_test: the storetest conformance run, oauth and state tests)
// make one directly.

// NewMemoryRevocationStore is newMemoryRevocationStore, for tests.
func NewMemoryRevocationStore(limit int) RevocationStore { return newMemoryRevocationStore(limit) }

// NewMemoryThrottle is newMemoryThrottle, for tests.
func NewMemoryThrottle(limit int) Throttle { return newMemoryThrottle(limit) }

// NewMemoryTokenStore is newMemoryTokenStore with the default bounds, for
// tests.
func NewMemoryTokenStore() TokenStore { return newMemoryTokenStore(0, 0) }
