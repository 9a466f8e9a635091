# cutover: build, test and lint. `make help` lists the targets.
GO          ?= go
BIN         := bin/cutover
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@2026.2.2
GOBIN       := $(shell $(GO) env GOPATH)/bin
DEMO_DIR    ?= $(or $(TMPDIR),/tmp)/cutover-demo

.PHONY: help build test test-short lint fmt fuzz demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/cutover
	$(GO) build -o $(BIN) ./cmd/cutover

test: ## run every test (unit, lab end-to-end over real SSH, short fuzz runs), with the race detector
	$(GO) test -race -count=1 ./...

test-short: ## the quick subset, for the edit-test loop
	$(GO) test -short -count=1 ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

FUZZTIME ?= 30s
fuzz: ## run every fuzz target for FUZZTIME (default 30s each)
	$(GO) test ./probe/ini -run '^$$' -fuzz '^FuzzParseBytesIsIdentity$$' -fuzztime $(FUZZTIME)
	$(GO) test ./probe/ini -run '^$$' -fuzz '^FuzzSetKeepsOtherLines$$' -fuzztime $(FUZZTIME)
	$(GO) test ./probe/inventory -run '^$$' -fuzz '^FuzzParseInventory$$' -fuzztime $(FUZZTIME)
	$(GO) test ./steps -run '^$$' -fuzz '^FuzzParseRunbook$$' -fuzztime $(FUZZTIME)
	$(GO) test ./steps/journal -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME)
	$(GO) test ./steps/journal -run '^$$' -fuzz '^FuzzAppendAfterRead$$' -fuzztime $(FUZZTIME)

demo: build ## start the practice lab and run maestro/move-hub on it, headless, then print the filled checklist
	@rm -rf $(DEMO_DIR); mkdir -p $(DEMO_DIR)
	@$(BIN) lab --dir $(DEMO_DIR)/lab --reset > $(DEMO_DIR)/lab.log 2>&1 & echo $$! > $(DEMO_DIR)/lab.pid; \
	  for i in $$(seq 50); do grep -q '^ready' $(DEMO_DIR)/lab.log && break; sleep 0.1; done; \
	  cat $(DEMO_DIR)/lab.log; \
	  $(BIN) run --from $(DEMO_DIR)/lab/runs/maestro-move-hub.yaml --headless --journal $(DEMO_DIR)/journal.jsonl; rc=$$?; \
	  $(BIN) export $(DEMO_DIR)/journal.jsonl -o $(DEMO_DIR)/checklist.md; \
	  kill $$(cat $(DEMO_DIR)/lab.pid); \
	  echo; echo "journal: $(DEMO_DIR)/journal.jsonl   checklist: $(DEMO_DIR)/checklist.md"; exit $$rc

clean: ## remove build output
	rm -rf bin
