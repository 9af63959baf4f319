# make test runs every test of every module, as CI does.
MODULES := $(shell find . -name go.mod -not -path '*/node_modules/*' -exec dirname {} \; | sort)

.PHONY: test
test:
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test -race -count=1 ./...); \
	done
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
