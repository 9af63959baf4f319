package loginpage

import (
	"strings"
	"testing"
)

func TestEveryPresetHasItsIcon(t *testing.T) {
	for _, p := range everyPreset() {
		icon := string(providerIcon(p.Preset))
		if icon == neutralIcon || !strings.Contains(icon, `aria-hidden="true"`) {
			t.Errorf("preset %s has no icon of its own", p.Preset)
		}
	}
	for preset, m := range presetIcons {
		for _, r := range m.letters {
			if glyphs[r] == "" {
				t.Errorf("preset %s: no glyph for %q", preset, r)
			}
		}
	}
	if providerIcon("") != neutralIcon || providerIcon("zitadel") != neutralIcon {
		t.Error("a provider built by hand has no neutral icon")
	}
}
