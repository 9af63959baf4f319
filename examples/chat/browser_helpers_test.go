package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds each browser step (a navigation, a wait, a click):
// generous for a shared CI machine under -race, short enough that a hang
// fails fast with the step's name.
const stepTimeout = 20 * time.Second

// screenshotsEnv names the variable that makes the browser tests keep
// their screenshots in screenshotsDir, for a person to look at.
const (
	screenshotsEnv = "CHATAUTH_SCREENSHOTS"
	screenshotsDir = "testdata/screenshots"
)

// chromiumPath finds Debian's Chromium (CHATAUTH_CHROMIUM overrides). Without
// it the test is skipped, except under CI=true, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHATAUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if inCI() {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("needs chromium (apt-get install chromium): not found on PATH, skipping the browser tests")
	return ""
}

// browser is one headless Chromium for a whole test; each page gets its
// own browser context, so cookies and storage never leak between flows.
type browser struct {
	ctx    context.Context
	output *logBuffer
}

// startBrowser launches Chromium with a fresh profile and closes it when
// the test ends. The background-networking flags keep it from calling
// Google's hosts, which fail noisily on a closed network.
func startBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	b := &browser{output: &logBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(b.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancel)
	// The first run starts the browser; it must not carry a deadline, or
	// the deadline would end the browser too.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", exe, err, b.output)
	}
	b.ctx = ctx
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", b.output)
		}
	})
	return b
}

// page is one tab in a browser context of its own.
type page struct {
	t   *testing.T
	ctx context.Context
	// shots are the screenshots taken so far, by name, written out when
	// the test fails or CHATAUTH_SCREENSHOTS=1.
	shots  map[string][]byte
	order  []string
	prefix string
}

// Screens: a laptop's, and a phone's in dark mode. Both ask for reduced
// motion, which the demo honours, so that screenshots never catch a
// transition half-way.
var (
	desktop = chromedp.Steps(chromedp.EmulateViewport(1280, 800), emulateMedia("light"))
	phone   = chromedp.Steps(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait),
		emulateMedia("dark"))
)

// emulateMedia sets prefers-color-scheme and prefers-reduced-motion.
func emulateMedia(colorScheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{
				{Name: "prefers-color-scheme", Value: colorScheme},
				{Name: "prefers-reduced-motion", Value: "reduce"},
			},
		})
		return err
	})
}

// newPage opens a tab in a fresh browser context, with the given viewport.
// prefix starts the names of its screenshot files. When the test fails,
// the page's screenshots, with one of where it stopped, go to a directory
// named in the log.
func (b *browser) newPage(t *testing.T, prefix string, viewport chromedp.Action[chromedp.Void]) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, viewport); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	p := &page{t: t, ctx: ctx, shots: map[string][]byte{}, prefix: prefix}
	t.Cleanup(p.saveScreenshots)
	return p
}

// run runs actions as one named step, failing the test with the step's
// name and the page's address if it fails.
func (p *page) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v (page at %s)", step, err, p.location())
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) on p.
func eval[T any](p *page, step, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluating %s: %v (page at %s)", step, expr, err, p.location())
	}
	return v
}

// text is the visible text of the element sel.
func (p *page) text(step, sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s: reading %s: %v (page at %s)", step, sel, err, p.location())
	}
	return strings.TrimSpace(s)
}

// waitUntil polls a JavaScript condition until it is true, across
// navigations (which end chromedp's in-page polls), up to stepTimeout.
func (p *page) waitUntil(step, cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+cond+")"))
		if err == nil && ok {
			return
		}
		if err != nil {
			lastErr = err // e.g. the page navigated mid-evaluation
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("%s: %s never became true within %s (last error %v; page at %s)", step, cond, stepTimeout, lastErr, p.location())
		case <-tick.C:
		}
	}
}

// location is the page's address, for failure messages.
func (p *page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// shot takes a screenshot of the viewport, kept under name.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if _, seen := p.shots[name]; !seen {
		p.order = append(p.order, name)
	}
	p.shots[name] = png
}

// saveScreenshots writes the page's screenshots: to testdata/screenshots
// when CHATAUTH_SCREENSHOTS=1, and, when the test failed, together with one
// of the page as it was, to a fresh directory named in the log.
func (p *page) saveScreenshots() {
	if os.Getenv(screenshotsEnv) == "1" {
		if err := p.writeShots(screenshotsDir); err != nil {
			p.t.Errorf("saving screenshots: %v", err)
		} else {
			p.t.Logf("screenshots in %s", screenshotsDir)
		}
	}
	if !p.t.Failed() {
		return
	}
	p.shot("at-failure")
	dir, err := os.MkdirTemp("", "chatauth-screenshots-")
	if err == nil {
		err = p.writeShots(dir)
	}
	if err != nil {
		p.t.Logf("could not save the failure's screenshots: %v", err)
		return
	}
	p.t.Logf("screenshots of the failed test: %s/%s*.png", dir, p.prefix)
}

func (p *page) writeShots(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, name := range p.order {
		errs = append(errs, os.WriteFile(filepath.Join(dir, p.prefix+name+".png"), p.shots[name], 0o644))
	}
	return errors.Join(errs...)
}

// loopbackListener listens on a free loopback port.
func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// jsString quotes s for JavaScript.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// The actions the flows use, with CSS selectors.

func navigate(url string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(url) }
func reload() chromedp.Action[chromedp.Void]             { return chromedp.Reload() }
func waitVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
func sendKeys(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}
