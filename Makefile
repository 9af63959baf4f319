# make test runs every test of every module, as CI does: go vet and the
# tests under -race in every module, the load and fault tests (build tag
# loadtest), a short run of every fuzz target, and a gofmt check.
# make quick is the plain test run of every module, without load or fuzz.
MODULES := $(shell find . -name go.mod -not -path '*/node_modules/*' -exec dirname {} \; | sort)
# FUZZTIME is how long each fuzz target runs in make test / make fuzz.
FUZZTIME ?= 10s

.PHONY: test quick loadtest fuzz fmt
test: quick loadtest fuzz fmt

quick:
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test -race -count=1 ./...); \
	done

# The bounded-memory test runs again without the race detector, with its
# full 100,000 attacker-chosen keys per structure (10,000 under -race).
loadtest:
	@echo "== load and fault tests"
	go vet -tags loadtest ./loadtest/
	go test -race -count=1 -tags loadtest ./loadtest/
	go test -count=1 -tags loadtest -run '^TestBoundedMemoryUnderAttack$$' ./loadtest/

# fuzz runs each Fuzz function of every package for FUZZTIME, one at a time
# (go test -fuzz takes one target of one package).
fuzz:
	@set -e; for f in $$(grep -l '^func Fuzz' $$(find . -name '*_test.go' -not -path '*/node_modules/*') | sort); do \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== fuzz $$name ($$(dirname $$f), $(FUZZTIME))"; \
			go test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$(dirname $$f); \
		done; \
	done

fmt:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
