package loginpage

import (
	"fmt"
	"html/template"
	"strings"
)

// monogram is a preset's icon: its initials on a tile of its brand colour.
// Drawn here rather than copied: no brand artwork, no licence question.
type monogram struct {
	background, letters string
}

// presetIcons are the icons of the twelve presets of package providers, by
// chatauth.Provider.Preset.
var presetIcons = map[string]monogram{
	"github":          {"#24292f", "GH"},
	"google":          {"#1a73e8", "G"},
	"azure-ad":        {"#0067b8", "M"},
	"azure-ad-hybrid": {"#0067b8", "M"},
	"okta":            {"#00297a", "O"},
	"auth0":           {"#c73d0e", "A0"},
	"descope":         {"#1d4a7a", "D"},
	"aws-cognito":     {"#b02a37", "C"},
	"gitlab":          {"#b4400f", "GL"},
	"keycloak":        {"#2d5f73", "K"},
	"generic":         {"#4b5563", "ID"},
	"oidc":            {"#b5520b", "ID"},
}

// neutralIcon is the icon of a provider built by hand: a key.
const neutralIcon = `<svg class="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">` +
	`<circle cx="7" cy="10" r="4" fill="none" stroke="currentColor" stroke-width="2"/>` +
	`<path d="M11 10h7M15 10v3M18 10v2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>`

// glyphs are the monograms' letters as strokes in a 6 by 10 box: drawn,
// not set in a font, so that they look the same everywhere and add no
// text to the page (the button's text is its label alone).
var glyphs = map[rune]string{
	'0': "M3 0C-1 0-1 10 3 10C7 10 7 0 3 0Z",
	'A': "M0 10L3 0L6 10M1 6.5H5",
	'C': "M6 1.2C4.6 0 3.6 0 3 0C-1 0-1 10 3 10C3.6 10 4.6 10 6 8.8",
	'D': "M0 0V10H2C7 10 7 0 2 0Z",
	'G': "M6 1.2C4.6 0 3.6 0 3 0C-1 0-1 10 3 10C4.5 10 6 9.5 6 7.5V5.5H3.5",
	'H': "M0 0V10M6 0V10M0 5H6",
	'I': "M1 0H5M3 0V10M1 10H5",
	'K': "M0 0V10M6 0L0 6.5M2 4.5L6 10",
	'L': "M0 0V10H6",
	'M': "M0 10V0L3 6L6 0V10",
	'O': "M3 0C-1 0-1 10 3 10C7 10 7 0 3 0Z",
}

// providerIcon is the inline SVG icon for a preset, neutral for others:
// white letters on a colour dark enough to read them.
func providerIcon(preset string) template.HTML {
	m, ok := presetIcons[preset]
	if !ok {
		return template.HTML(neutralIcon)
	}
	letters := []rune(m.letters)
	scale, gap := 1.0, 0.0
	if len(letters) > 1 {
		scale, gap = 0.7, 2
	}
	n := float64(len(letters))
	width := n*6*scale + (n-1)*gap
	x, y := (20-width)/2, (20-10*scale)/2
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">`+
		`<rect width="20" height="20" rx="5" fill="%s"/><g fill="none" stroke="#fff" stroke-width="1.7" `+
		`stroke-linecap="round" stroke-linejoin="round">`, m.background)
	for i, r := range letters {
		fmt.Fprintf(&b, `<path vector-effect="non-scaling-stroke" transform="translate(%g %g) scale(%g)" d="%s"/>`,
			x+float64(i)*(6*scale+gap), y, scale, glyphs[r])
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String())
}
