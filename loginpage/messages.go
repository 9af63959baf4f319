package loginpage

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// builtinMessages holds one JSON file per built-in language, named by its
// tag: en, fr, de, es, pt-BR, ja, zh-CN.
//
//go:embed messages/*.json
var builtinMessages embed.FS

// catalog is the page's text in every language it speaks.
type catalog struct {
	// byTag maps a lower-case language tag to its complete messages.
	byTag map[string]map[string]string
	// tags are the languages' tags as written ("pt-BR"), by lower case.
	tags map[string]string
	// fallback is the lower-case tag used when nothing else matches.
	fallback string
}

// newCatalog reads the built-in languages and lays the app's messages
// over them: a new language takes English for the keys it leaves out.
func newCatalog(extra map[string]map[string]string, fallback string) (*catalog, error) {
	c := &catalog{byTag: map[string]map[string]string{}, tags: map[string]string{}}
	files, err := fs.Glob(builtinMessages, "messages/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		b, err := builtinMessages.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tag := strings.TrimSuffix(strings.TrimPrefix(name, "messages/"), ".json")
		c.add(tag, m)
	}
	english := c.byTag["en"]
	var errs []error
	for _, tag := range sortedKeys(extra) {
		if !validTag(tag) {
			//lint:ignore ST1005 the error starts with the name of the Options field
			errs = append(errs, fmt.Errorf("Messages: %q is not a language tag such as \"it\" or \"pt-PT\"", tag))
			continue
		}
		m := c.byTag[strings.ToLower(tag)]
		if m == nil {
			m = map[string]string{}
		}
		for _, key := range sortedKeys(extra[tag]) {
			if _, ok := english[key]; !ok {
				//lint:ignore ST1005 the error starts with the name of the Options field
				errs = append(errs, fmt.Errorf("Messages[%q]: unknown key %q (the keys are those of messages/en.json)", tag, key))
				continue
			}
			m[key] = extra[tag][key]
		}
		c.add(tag, m)
	}
	for _, m := range c.byTag {
		for key, text := range english {
			if _, ok := m[key]; !ok {
				m[key] = text
			}
		}
	}
	if fallback == "" {
		fallback = "en"
	}
	c.fallback = strings.ToLower(fallback)
	if c.byTag[c.fallback] == nil {
		errs = append(errs, fmt.Errorf("DefaultLanguage %q is not one of the page's languages", fallback))
	}
	return c, errors.Join(errs...)
}

func (c *catalog) add(tag string, m map[string]string) {
	lower := strings.ToLower(tag)
	c.byTag[lower] = m
	if _, ok := c.tags[lower]; !ok {
		c.tags[lower] = tag
	}
}

// validTag accepts BCP 47-shaped tags: letters, digits and hyphens, the
// first subtag 2 to 8 letters.
func validTag(tag string) bool {
	if len(tag) > 35 {
		return false
	}
	for i, sub := range strings.Split(tag, "-") {
		if sub == "" || len(sub) > 8 || (i == 0 && len(sub) < 2) {
			return false
		}
		for _, r := range sub {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// maxLanguageRanges bounds the Accept-Language entries looked at.
const maxLanguageRanges = 32

// language picks the tag (as written) of the best language for an
// Accept-Language header: the highest q-value first, an exact tag before a
// language of the same primary subtag ("pt-PT" gets "pt-BR", "zh-TW" gets
// "zh-CN"), q=0 never, and the fallback when nothing matches.
func (c *catalog) language(acceptLanguage string) string {
	type want struct {
		tag string
		q   float64
	}
	var wants []want
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i == maxLanguageRanges {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if tag = strings.ToLower(strings.TrimSpace(tag)); tag != "" && q > 0 {
			wants = append(wants, want{tag, q})
		}
	}
	slices.SortStableFunc(wants, func(a, b want) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	for _, w := range wants {
		if w.tag == "*" {
			break
		}
		if lang := c.match(w.tag); lang != "" {
			return c.tags[lang]
		}
	}
	return c.tags[c.fallback]
}

// match finds the language for one lower-case tag: itself, else one
// whose primary subtag is the same (the shortest such, for stability).
func (c *catalog) match(tag string) string {
	if _, ok := c.byTag[tag]; ok {
		return tag
	}
	primary, _, _ := strings.Cut(tag, "-")
	best := ""
	for lang := range c.byTag {
		p, _, _ := strings.Cut(lang, "-")
		if p == primary && (best == "" || len(lang) < len(best) || len(lang) == len(best) && lang < best) {
			best = lang
		}
	}
	return best
}

// messages returns the messages of a tag returned by language.
func (c *catalog) messages(tag string) map[string]string { return c.byTag[strings.ToLower(tag)] }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
