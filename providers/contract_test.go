package providers

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestContractDocEnvironment: every variable FromEnv reads is in the
// environment table of docs/contract.md, by name or by a family such as
// OAUTH_GITHUB_* or OAUTH_<ID>_PROMPT.
func TestContractDocEnvironment(t *testing.T) {
	b, err := os.ReadFile("../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	_, env, _ := strings.Cut(string(b), "\n## Environment\n")
	env, _, _ = strings.Cut(env, "\n## ")
	var patterns []*regexp.Regexp
	for _, line := range strings.Split(env, "\n") {
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		for _, name := range regexp.MustCompile("`([A-Z0-9_<>*]+)`").FindAllStringSubmatch(first, -1) {
			p := regexp.QuoteMeta(name[1])
			p = strings.NewReplacer(`\*`, `[A-Z0-9_]+`, `<ID>`, `[A-Z0-9_]+`).Replace(p)
			patterns = append(patterns, regexp.MustCompile("^"+p+"$"))
		}
	}
	read := map[string]bool{}
	_, _ = FromEnv(func(k string) string { read[k] = true; return "x" })
	if len(read) < 20 {
		t.Fatalf("recorded only %d variables: the recording broke", len(read))
	}
	for name := range read {
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(name) }) {
			t.Errorf("%s is read from the environment but missing from docs/contract.md: add the row | `%s` | ... |", name, name)
		}
	}
}
