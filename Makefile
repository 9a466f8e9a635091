# cutover: build, test and lint. `make help` lists the targets.
GO          ?= go
BIN         := bin/cutover
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN       := $(shell $(GO) env GOPATH)/bin
DEMO_DIR    ?= $(or $(TMPDIR),/tmp)/cutover-demo

# The version stamped into the program: the nearest tag (or the commit), the commit, and
# the commit's time, so that two builds of one commit are alike.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE  ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
LDFLAGS     := -X main.buildVersion=$(VERSION) -X main.buildCommit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

.PHONY: help build test test-short lint fmt fuzz demo clean man dist

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/cutover, version stamped
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/cutover

man: ## write a man page per command into bin/man
	$(GO) run -tags man ./cmd/cutover man bin/man

# Release binaries: static (no cgo), stripped, with paths trimmed, for the machines
# operators run cutover from; SHA256SUMS beside them. Plain go build, offline.
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
dist: ## build release binaries for DIST_PLATFORMS into bin/dist, with SHA256SUMS
	@rm -rf bin/dist; mkdir -p bin/dist
	@set -e; for p in $(DIST_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=bin/dist/cutover_$(VERSION)_$${os}_$${arch}$$ext; \
	  echo "$$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o $$out ./cmd/cutover; \
	done
	@cd bin/dist && { sha256sum cutover_* 2>/dev/null || shasum -a 256 cutover_*; } > SHA256SUMS && cat SHA256SUMS

test: ## run every test (unit, lab end-to-end over real SSH, short fuzz runs), with the race detector
	$(GO) test -race -count=1 -timeout 20m ./...

# Short tests spend much of their time waiting on the processes and connections they
# start, so twice as many test binaries as processors run at once.
SHORT_P     ?= $(shell n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2); echo $$((n * 2)))

test-short: ## the quick subset, for the edit-test loop
	$(GO) test -short -count=1 -p $(SHORT_P) ./...

lint: ## gofmt, go vet, staticcheck, and the macOS and Windows builds
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...
	@# Operators run cutover from Linux, macOS and Windows machines: keep every build working.
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...

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
	$(GO) test ./probe/hosttext -run '^$$' -fuzz '^FuzzLine$$' -fuzztime $(FUZZTIME)

.PHONY: demo-headless

demo: build ## the wizard as on a first night: no inventory found, so it offers the practice lab; y starts it in-process
	@rm -rf $(DEMO_DIR); mkdir -p $(DEMO_DIR)/work
	@cd $(DEMO_DIR)/work && env -u CUTOVER_JOURNALS XDG_STATE_HOME=$(DEMO_DIR)/state XDG_CONFIG_HOME=$(DEMO_DIR)/config \
	  $(abspath $(BIN)); rc=$$?; \
	  echo; echo "journals and exported checklists: $(DEMO_DIR)/state/cutover/journals"; exit $$rc

demo-headless: build ## start the practice lab and run maestro/move-hub on it, headless, then print the filled checklist
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

# OpenSSH compatibility and benchmarks. Both need root: they install Debian
# packages when missing and start sshd instances with a login account of their own.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
BENCH_FLAGS ?=

.PHONY: test-openssh bench

test-openssh: ## run cutover against Debian's OpenSSH server and sudo (root; installs openssh-server and sudo if missing)
	@need=""; [ -x /usr/sbin/sshd ] || need="$$need openssh-server"; \
	  command -v sudo >/dev/null || need="$$need sudo"; \
	  if [ -n "$$need" ]; then \
	    if [ "$$(id -u)" != 0 ]; then echo "test-openssh: missing$$need and installing needs root" >&2; exit 1; fi; \
	    (apt-get update -qq && $(APT_INSTALL) $$need >/dev/null) || exit 1; \
	  fi
	CUTOVER_OPENSSH=1 $(GO) test -count=1 -v -run '^TestOpenSSH(SudoSite)?$$' ./probe/lab/

bench: build ## cutover against parallel-ssh, Ansible, ssh+grep, scp and rsync, and the outage window with and without a pre-seed; writes BENCHMARKS.md (root; installs what is missing)
	@need=""; [ -x /usr/sbin/sshd ] || need="$$need openssh-server"; \
	  command -v parallel-ssh >/dev/null || need="$$need pssh"; \
	  command -v ansible >/dev/null || need="$$need ansible-core"; \
	  command -v rsync >/dev/null || need="$$need rsync"; \
	  if [ -n "$$need" ]; then \
	    if [ "$$(id -u)" != 0 ]; then echo "bench: missing$$need and installing needs root" >&2; exit 1; fi; \
	    (apt-get update -qq && $(APT_INSTALL) $$need >/dev/null) || exit 1; \
	  fi
	$(GO) run ./cmd/cutover-bench -cutover $(BIN) -o BENCHMARKS.md $(BENCH_FLAGS)

# Crash safety: SIGKILL lab runs of maestro/move-hub at CRASH_POINTS seeded random
# moments and resume each; make test runs a sample of 10, make crash the full figure.
CRASH_POINTS ?= 120
CRASH_SEED   ?= 1

.PHONY: crash

crash: ## kill lab runs at CRASH_POINTS random moments (default 120) and resume each; prints the figures
	@mkdir -p bin
	@CUTOVER_CRASH_POINTS=$(CRASH_POINTS) CUTOVER_CRASH_SEED=$(CRASH_SEED) CUTOVER_CRASH_REPORT=$(CURDIR)/bin/crash-report.txt \
	  $(GO) test -count=1 -timeout 30m -run '^TestCrashResume$$' ./cmd/cutover; rc=$$?; \
	  echo "crash test, seed $(CRASH_SEED):"; cat bin/crash-report.txt 2>/dev/null; exit $$rc
