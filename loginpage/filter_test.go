package loginpage

import (
	"strings"
	"testing"
)

func TestCSSFilter(t *testing.T) {
	for setting, want := range map[string]string{
		"":                                  "",
		"brightness-[0.2] grayscale":        "brightness(0.2) grayscale(1)",
		"brightness-50 contrast-125":        "brightness(50%) contrast(125%)",
		"blur blur-sm blur-none blur-[3px]": "blur(8px) blur(4px) blur(0) blur(3px)",
		"-hue-rotate-30 hue-rotate-90":      "hue-rotate(-30deg) hue-rotate(90deg)",
		"grayscale-0 invert sepia":          "grayscale(0) invert(1) sepia(1)",
		"opacity-75 saturate-150":           "opacity(75%) saturate(150%)",
		"brightness(0.6) grayscale(100%)":   "brightness(0.6) grayscale(100%)",
		"  invert   hue-rotate(180deg) ":    "invert(1) hue-rotate(180deg)",
	} {
		got, err := cssFilter(setting)
		if err != nil || got != want {
			t.Errorf("cssFilter(%q) = %q, %v; want %q", setting, got, err, want)
		}
	}
}

func TestCSSFilterRefusesAnythingElse(t *testing.T) {
	for _, setting := range []string{
		"rounded-lg", "brightness-[0.2];background:url(x)", "url(https://evil.example/x)", "}body{display:none",
		"brightness(0.5", "-brightness-50", "grayscale-50", "drop-shadow(0 0 2px red)", "blur-huge", "brightness-[1e3]",
	} {
		if got, err := cssFilter(setting); err == nil {
			t.Errorf("cssFilter(%q) = %q, want an error", setting, got)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %v", err)
		}
	}
}
