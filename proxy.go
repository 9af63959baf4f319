package chatauth

// proxy.go: who sent a request. The TCP peer, the trusted proxies
// (Config.Proxy.Trusted) whose X-Forwarded-For names the client, and the
// public origin the request says (X-Forwarded-Proto from
// ForwardedAllowIPs, X-Forwarded-Host from trusted proxies).

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// peer is the address of the host that sent the request, unmapped.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func (a *Auth) trusted(addr netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (a *Auth) fromTrustedProxy(r *http.Request) bool { return a.trusted(peer(r)) }

// clientAddr is the address of the client: the peer, or, when the peer is a
// trusted proxy, the right-most untrusted address of X-Forwarded-For.
func (a *Auth) clientAddr(r *http.Request) string {
	addr := peer(r)
	if !a.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if h = h.Unmap(); !a.trusted(h) {
			return h.String()
		}
	}
	return addr.String()
}

// publicBase is the app's public URL: BaseURL, or the origin the request
// says. X-Forwarded-Proto is believed from ForwardedAllowIPs (loopback by
// default, as uvicorn does) and trusted proxies; X-Forwarded-Host only from
// trusted proxies, since uvicorn never reads it (a proxy on the same host
// passes Host on), and a local process must not be able to move the
// redirect URI to another host.
func (a *Auth) publicBase(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return a.cfg.BaseURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	trusted := a.fromTrustedProxy(r)
	if trusted || a.forwardedFrom(peer(r)) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
			scheme = p
		}
	}
	if trusted {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// forwardedFrom reports whether addr is in ForwardedAllowIPs.
func (a *Auth) forwardedFrom(addr netip.Addr) bool {
	for _, p := range a.forwarded {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

func validHost(h string) bool {
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.User == nil && u.Path == ""
}
