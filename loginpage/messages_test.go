package loginpage

import (
	"strings"
	"testing"
)

func TestLanguageFromAcceptLanguage(t *testing.T) {
	c, err := newCatalog(map[string]map[string]string{"it": {"sign_in": "Accedi"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{
		"":                                "en",
		"fr":                              "fr",
		"fr-CA,fr;q=0.9,en;q=0.8":         "fr",
		"de-DE":                           "de",
		"en;q=0.5, ja":                    "ja",
		"pt-PT":                           "pt-BR",
		"PT-br":                           "pt-BR",
		"zh-TW,zh;q=0.9":                  "zh-CN",
		"zh-Hans-CN":                      "zh-CN",
		"es-419":                          "es",
		"ko, it;q=0.3":                    "it",
		"ja;q=0, fr;q=0.1":                "fr",
		"nl, *;q=0.5":                     "en",
		"ja;q=abc, de;q=2, es;q=0.001":    "es",
		"sv":                              "en",
		strings.Repeat("xx, ", 40) + "fr": "en", // past the entries looked at
	} {
		if got := c.language(header); got != want {
			t.Errorf("Accept-Language %q: %q, want %q", header, got, want)
		}
	}
}

func TestAppMessages(t *testing.T) {
	c, err := newCatalog(map[string]map[string]string{
		"it": {"sign_in": "Accedi", "logged_out": "Sei uscito."},
		"fr": {"logged_out": "À bientôt !"},
	}, "it")
	if err != nil {
		t.Fatal(err)
	}
	it := c.messages(c.language("it-IT"))
	if it["sign_in"] != "Accedi" || it["password"] != "Password" || it["continue_with"] != "Continue with {provider}" {
		t.Errorf("a new language with English for the rest: %v", it)
	}
	if fr := c.messages("fr"); fr["logged_out"] != "À bientôt !" || fr["password"] != "Mot de passe" {
		t.Errorf("an override keeps the other French words: %q %q", fr["logged_out"], fr["password"])
	}
	if got := c.language("sv"); got != "it" {
		t.Errorf("DefaultLanguage it: %q", got)
	}
	for _, key := range []string{"sign_in", "default", "network", "throttled_seconds"} {
		for _, lang := range []string{"en", "fr", "de", "es", "pt-BR", "ja", "zh-CN"} {
			if c.messages(lang)[key] == "" {
				t.Errorf("%s lacks %s", lang, key)
			}
		}
	}
}

func TestEveryLanguageHasEveryKeyAndPlaceholder(t *testing.T) {
	c, err := newCatalog(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	english := c.messages("en")
	for lang, m := range c.byTag {
		if len(m) != len(english) {
			t.Errorf("%s has %d messages, English %d", lang, len(m), len(english))
		}
		for key, text := range english {
			for _, ph := range []string{"{provider}", "{n}"} {
				if strings.Contains(text, ph) != strings.Contains(m[key], ph) {
					t.Errorf("%s %s: placeholder %s differs from English", lang, key, ph)
				}
			}
		}
	}
}

func TestAppMessagesErrors(t *testing.T) {
	_, err := newCatalog(map[string]map[string]string{
		"it":       {"sign_inn": "Accedi"},
		"<script>": {"sign_in": "x"},
		"x":        {},
	}, "tlh")
	for _, want := range []string{`unknown key "sign_inn"`, `"<script>" is not a language tag`, `"x" is not a language tag`, `DefaultLanguage "tlh"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}
