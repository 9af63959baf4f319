# make test runs every test of every module, as CI does: go vet and the
# tests under -race in every module, the load and fault tests (build tag
# loadtest), a short run of every fuzz target, and a gofmt check. It ends
# with a summary: tests run, failed and skipped, and for each group of
# tests skipped for want of a program (redis-server, chromium, node,
# python3-jwt...) what to install.
# It also lints every module with staticcheck (make lint), builds and tests
# every module alone with GOWORK=off as a user's machine would (make
# gowork-off), and rehearses a release through a local module proxy
# (make rehearse, .ci/rehearse-release; RELEASING.md).
# Every part runs even when an earlier one fails (make -k), so that one run
# shows every failure.
# make quick is the plain test run of every module, without load or fuzz.
MODULES := $(shell find . -name go.mod -not -path '*/node_modules/*' -exec dirname {} \; | sort)
# FUZZTIME is how long each fuzz target runs in make test / make fuzz: a
# count of inputs (2 to 25 s each here), not a duration, because with a
# duration Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" at the deadline on a loaded machine
# (golang/go issue 75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME ?= 20000x
# TESTLOG collects the go test -json events of a run for the summary.
TESTLOG ?= $(CURDIR)/.testlog.json
TESTREPORT := $(CURDIR)/.bin/testreport
# gotest runs go test -json $(1), shown as plain go test shows it and
# logged in TESTLOG by internal/testreport; its exit status is go test's.
gotest = { go test -json $(1); echo $$? >"$(TESTLOG).rc"; } | "$(TESTREPORT)" print "$(TESTLOG)" && exit "$$(cat "$(TESTLOG).rc")"

# STATICCHECK is staticcheck, pinned, from the Go module proxy: no go.mod
# of the repository depends on it.
STATICCHECK ?= go run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test quick modules loadtest fuzz fmt lint gowork-off rehearse api testreport
test: testreport
	@rm -f "$(TESTLOG)"; status=0; \
	$(MAKE) -k --no-print-directory modules loadtest fuzz fmt lint gowork-off rehearse || status=$$?; \
	"$(TESTREPORT)" summary "$(TESTLOG)"; exit $$status

quick: testreport
	@rm -f "$(TESTLOG)"; status=0; \
	$(MAKE) --no-print-directory modules || status=$$?; \
	"$(TESTREPORT)" summary "$(TESTLOG)"; exit $$status

modules: testreport
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && $(call gotest,-race -count=1 ./...)); \
	done

loadtest: testreport
	@echo "== load and fault tests"
	go vet -tags loadtest ./loadtest/
	@$(call gotest,-race -count=1 -tags loadtest ./loadtest/)
	@$(call gotest,-count=1 -tags loadtest -run TestBoundedMemoryUnderAttack ./loadtest/)

# fuzz runs each Fuzz function of every package for FUZZTIME, one at a time
# (go test -fuzz takes one target of one package); every target runs even
# after one fails, and the failures are named at the end.
fuzz:
	@failed=""; for f in $$(grep -l '^func Fuzz' $$(find . -name '*_test.go' -not -path '*/node_modules/*') | sort); do \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== fuzz $$name ($$(dirname $$f), $(FUZZTIME))"; \
			go test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$(dirname $$f) || failed="$$failed $$name"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "== fuzz targets that failed:$$failed"; exit 1; fi

fmt:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# lint runs staticcheck over every module (the load tests included).
# Every module is checked, then it fails if any had findings.
lint:
	@status=0; for m in $(MODULES); do \
		echo "== staticcheck $$m"; \
		(cd $$m && $(STATICCHECK) ./...) || status=1; \
	done; \
	echo "== staticcheck -tags loadtest ./loadtest/"; \
	$(STATICCHECK) -tags loadtest ./loadtest/ || status=1; \
	exit $$status

# gowork-off vets, builds and tests every module alone, without go.work,
# as a user's machine (or a module proxy) sees it.
gowork-off:
	@set -e; for m in $(MODULES); do \
		echo "== GOWORK=off $$m"; \
		(cd $$m && GOWORK=off go vet ./... && GOWORK=off go build ./... && GOWORK=off go test -count=1 ./...); \
	done

# rehearse does what a user's go get will do once the release is tagged,
# through a local module proxy (.ci/rehearse-release, RELEASING.md).
rehearse:
	@.ci/rehearse-release

# api regenerates api/*.txt, the written-down API (internal/apifile).
api:
	go test ./internal/apifile -update

# testreport is the small program behind the summary (internal/testreport).
testreport:
	@mkdir -p "$(dir $(TESTREPORT))" && go build -o "$(TESTREPORT)" ./internal/testreport
