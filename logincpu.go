package chatauth

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Login CPU. A password check is a bcrypt comparison, tens of milliseconds
// of one core; a credential hook may be as slow. Two bounds keep logins from
// starving chat traffic, whoever sends them: at most PasswordConcurrency
// (HeaderConcurrency) checks run at once, the others wait a little in line
// and are then told to come back (503 busy); and each client address has a
// budget of checks per window, successful or not (429 throttled), on top of
// the budgets of failures that stop guessing.

// defaultCheckWait is how long a check waits for a free slot before 503
// busy: short enough that every login is answered within a few seconds.
const defaultCheckWait = time.Second

// slots is a counting semaphore: one element per check in progress.
type slots chan struct{}

// take waits for a free slot, at most wait or until ctx ends, and reports
// whether it got one. Waiters are served first come, first served.
func (s slots) take(ctx context.Context, wait time.Duration) bool {
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (s slots) give() { <-s }

// budget is one throttle key a check is counted against, and what a
// successful check does to it.
type budget struct {
	key     string
	limit   int
	success successRule
}

// successRule says what a successful check does to a budget's count.
type successRule int

const (
	keepCount  successRule = iota // every check counts (the work budget)
	forgiveOne                    // failures count: take this one back
	resetCount                    // a success clears the count (per username)
)

// checksKey is the throttle key of the checks one client address caused.
func checksKey(addr string) string { return "checks:" + addressKey(addr) }

// passwordBudgets are the budgets of a password check: failures per
// username and per address, and checks per address.
func (a *Auth) passwordBudgets(r *http.Request, username string) []budget {
	l, addr := a.cfg.PasswordLimits, a.clientAddr(r)
	return []budget{
		{usernameKey(username), l.PerUsername, resetCount},
		{addressKey(addr), l.PerAddress, forgiveOne},
		{checksKey(addr), l.ChecksPerAddress, keepCount},
	}
}

// credentialBudgets are the budgets of a header credential check: the
// failures per address it shares with passwords, and checks per address.
func (a *Auth) credentialBudgets(r *http.Request) []budget {
	l, addr := a.cfg.PasswordLimits, a.clientAddr(r)
	return []budget{
		{addressKey(addr), l.PerAddress, forgiveOne},
		{checksKey(addr), l.ChecksPerAddress, keepCount},
	}
}

// refuseThrottledAddress refuses, as admit would, a credential from a
// client address whose failure budget is spent, without counting it: a
// credential found among the remembered header sessions is not checked
// again, but a throttled client must not be able to tell a remembered key
// from a wrong one by the answer.
func (a *Auth) refuseThrottledAddress(r *http.Request) error {
	l, key := a.cfg.PasswordLimits, addressKey(a.clientAddr(r))
	wait, err := a.cfg.Throttle.Hit(r.Context(), key, l.PerAddress, l.Window)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	_ = a.cfg.Throttle.Forgive(r.Context(), key)
	if wait > 0 {
		return &checkRefused{status: http.StatusTooManyRequests, reason: reasonThrottled, retryAfter: wait}
	}
	return nil
}

// checkRefused is a check that was not run: the client's budget is spent
// (429 throttled) or every slot stayed busy (503 busy). Either way it
// answers with Retry-After.
type checkRefused struct {
	status     int
	reason     string
	retryAfter time.Duration
}

func (e *checkRefused) Error() string {
	if e.reason == reasonBusy {
		return "every check slot busy"
	}
	return fmt.Sprintf("check budget spent, retry after %v", e.retryAfter)
}

// detail is the response's {"detail"} for the refusal.
func (e *checkRefused) detail() string {
	if e.reason == reasonBusy {
		return "too many logins in progress, try again later"
	}
	return "too many login attempts, try again later"
}

// admission is a check allowed to run: it holds a slot and has been
// counted against its budgets until done.
type admission struct {
	a       *Auth
	ctx     context.Context
	slots   slots
	budgets []budget
}

// admit counts a check against the client's budgets and takes a slot for
// it. It returns a *checkRefused when the check may not run, or an error
// wrapping ErrStoreUnavailable when the Throttle failed. A check that is
// not run is not counted.
func (a *Auth) admit(r *http.Request, s slots, budgets []budget) (*admission, error) {
	ctx := r.Context()
	var wait time.Duration
	counted := make([]string, 0, len(budgets))
	for _, b := range budgets {
		w, err := a.cfg.Throttle.Hit(ctx, b.key, b.limit, a.cfg.PasswordLimits.Window)
		if err != nil {
			a.forgive(ctx, counted)
			return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		counted = append(counted, b.key)
		wait = max(wait, w)
	}
	// A refused check costs nothing, so it is taken back: however often a
	// client is refused, its budgets return when the window ends.
	if wait > 0 {
		a.forgive(ctx, counted)
		return nil, &checkRefused{status: http.StatusTooManyRequests, reason: reasonThrottled, retryAfter: wait}
	}
	if !s.take(ctx, a.checkWait) {
		a.forgive(ctx, counted)
		return nil, &checkRefused{status: http.StatusServiceUnavailable, reason: reasonBusy, retryAfter: time.Second}
	}
	return &admission{a: a, ctx: ctx, slots: s, budgets: budgets}, nil
}

// done frees the check's slot and settles its budgets: a success is
// forgiven where only failures count.
func (ad *admission) done(success bool) {
	ad.slots.give()
	if !success {
		return
	}
	for _, b := range ad.budgets {
		switch b.success {
		case forgiveOne:
			_ = ad.a.cfg.Throttle.Forgive(ad.ctx, b.key)
		case resetCount:
			_ = ad.a.cfg.Throttle.Reset(ad.ctx, b.key)
		}
	}
}

// forgive takes back one attempt for each key.
func (a *Auth) forgive(ctx context.Context, keys []string) {
	for _, k := range keys {
		_ = a.cfg.Throttle.Forgive(ctx, k)
	}
}
