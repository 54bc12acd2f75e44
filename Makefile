# customerhub: developer and CI entry points. `make help` lists the targets.
#
# Connection settings (DATABASE_URL, MIGRATE_DATABASE_URL, ADMIN_DATABASE_URL,
# REDIS_URL, CUSTOMERHUB_LISTEN_ADDR, ...) come from the environment and are
# passed through untouched; the binary and scripts/ensure-services.sh have the
# local defaults. Only `test`, `bench` and `soak` set defaults of their own (below).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO      ?= go
BIN     ?= bin/customerhub
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS ?= -X main.version=$(VERSION)

SQLC_VERSION ?= v1.31.1
SQLC         ?= $(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

# The linters and the Go client generator, pinned; go run builds them
# from the module proxy on first use. The npm tools are pinned by
# tools/apilint/package-lock.json.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT         ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
OAPI_CODEGEN_VERSION  ?= v2.8.2
OAPI_CODEGEN          ?= $(GO) run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$(OAPI_CODEGEN_VERSION)
APILINT               := tools/apilint
# The OpenAPI description as the binary serves it (customerhub openapi).
OPENAPI_DOC            = $(GO) run ./cmd/customerhub openapi

ENSURE_SERVICES := bash scripts/ensure-services.sh

TEST_TIMEOUT ?= 20m
TEST_FLAGS   ?= -race -count=1 -timeout $(TEST_TIMEOUT)
PKGS         ?= ./...
BENCH        ?= .
# make fuzz: how long each fuzz target runs, and extra go test flags
# (FUZZFLAGS=-parallel=1 for one fuzzing worker).
FUZZTIME     ?= 10s
FUZZFLAGS    ?=

# What the tests get when the caller has not set them: the superuser the test
# harness uses to create its own databases, and the Redis the tests use.
TEST_ADMIN_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
test bench fuzz: export TEST_ADMIN_DATABASE_URL := $(TEST_ADMIN_DATABASE_URL)
test bench fuzz: export REDIS_URL ?= redis://127.0.0.1:6379/0

# Go files for gofmt: all of them except testdata, vendor and build output.
FIND_GO = find . \( -path ./.git -o -path ./bin -o -path ./vendor -o -name testdata \) -prune -o -name '*.go' -print0

.PHONY: help run run-cluster services console build db-init migrate demo test test-citus bench soak faults fuzz vet lint fmt generate check-generated clean

help: ## List the targets
	@echo 'usage: make <target>'
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo 'Environment: DATABASE_URL, MIGRATE_DATABASE_URL, ADMIN_DATABASE_URL, REDIS_URL,'
	@echo 'CUSTOMERHUB_LISTEN_ADDR, ... are passed through; run/test/bench set'
	@echo 'REDIS_URL when unset, test/bench also TEST_ADMIN_DATABASE_URL.'

# make run serves the operators' River UI with a local-only password unless
# one is set; never use this default anywhere else. It runs the whole system,
# Redis included (started when local and not answering); REDIS_URL= (set,
# empty) runs without it.
run: export CUSTOMERHUB_ADMIN_PASSWORD ?= local-demo-operator
# Likewise a local-only key sealing tenants' SMS credentials (base64 of
# "local-dev-only-not-a-secret-key!"); production sets its own
# CUSTOMERHUB_SECRET_KEY. Without Twilio credentials (TWILIO_ACCOUNT_SID,
# TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER) the serve process also runs the
# Twilio stand-in and the demo tenant sends to it: nothing leaves the
# machine.
run: export CUSTOMERHUB_SECRET_KEY ?= bG9jYWwtZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleSE=
ifeq ($(TWILIO_ACCOUNT_SID),)
run: export CUSTOMERHUB_TWILIO_STANDIN_ADDR ?= 127.0.0.1:8089
run: export CUSTOMERHUB_TWILIO_API_URL ?= http://127.0.0.1:8089
endif
run: export REDIS_URL ?= redis://127.0.0.1:6379/0
run: services build ## Start services, build, db-init, migrate, demo, then serve (idempotent)
	$(BIN) db-init
	$(BIN) migrate
	$(BIN) demo
	exec $(BIN) serve

# make run-cluster: the same system as make run (same database, demo
# tenant, environment) served by 2 api and 2 worker processes behind a
# round-robin front (cmd/cluster) on CUSTOMERHUB_LISTEN_ADDR
# (127.0.0.1:8080); logs in bin/cluster-logs. APIS= and WORKERS= change
# the counts.
APIS    ?= 2
WORKERS ?= 2
run-cluster: export CUSTOMERHUB_ADMIN_PASSWORD ?= local-demo-operator
run-cluster: export CUSTOMERHUB_SECRET_KEY ?= bG9jYWwtZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleSE=
ifeq ($(TWILIO_ACCOUNT_SID),)
run-cluster: export CUSTOMERHUB_TWILIO_STANDIN_ADDR ?= 127.0.0.1:8089
run-cluster: export CUSTOMERHUB_TWILIO_API_URL ?= http://127.0.0.1:8089
endif
run-cluster: export REDIS_URL ?= redis://127.0.0.1:6379/0
run-cluster: services build ## Like run, with 2 api and 2 worker processes behind a round-robin front
	$(BIN) db-init
	$(BIN) migrate
	$(BIN) demo
	exec $(GO) run ./cmd/cluster -bin $(BIN) -apis $(APIS) -workers $(WORKERS)

services: ## Make sure PostgreSQL (and Redis, when REDIS_URL is set) answer; start local ones
	$(ENSURE_SERVICES)

# The web console (internal/console/web) is built into
# internal/console/dist/app, which the binary embeds; the script skips the
# work when nothing it depends on changed, and installs Node.js from
# Debian when it is missing.
console: ## Build the web console (skipped when its sources and the API are unchanged)
	GO='$(GO)' bash scripts/build-console.sh

build: console ## Build bin/customerhub (with the web console)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/customerhub

db-init: build ## Create roles and database as ADMIN_DATABASE_URL (superuser)
	$(BIN) db-init

migrate: build ## Apply migrations as MIGRATE_DATABASE_URL (after db-init)
	$(BIN) migrate

demo: build ## Create or re-use the demo tenant and print its tokens
	$(BIN) demo

# make test ends with a short run of every fuzz target (TEST_FUZZTIME
# each: 1000 inputs; 0 skips it): go test alone runs only their seeds. A
# count, not a duration: a duration of a second or two can end while the
# fuzzer is still gathering its baseline on a loaded machine, and go test
# then fails the target with "context deadline exceeded".
TEST_FUZZTIME ?= 1000x
test: ## Start services, check generated code, build the console, vet, go test -race, then every fuzz target for TEST_FUZZTIME
	ADMIN_DATABASE_URL='$(TEST_ADMIN_DATABASE_URL)' $(ENSURE_SERVICES) --require-redis
	$(MAKE) check-generated
	$(MAKE) console
	$(GO) vet $(PKGS)
	CHROMIUM_PATH="$$(bash scripts/ensure-browser.sh)" $(GO) test $(TEST_FLAGS) $(PKGS)
	@if [[ '$(TEST_FUZZTIME)' != 0 ]]; then $(MAKE) fuzz FUZZTIME=$(TEST_FUZZTIME); fi

# make test-citus needs CITUS_COORDINATOR_URL: a superuser URL of a Citus
# coordinator whose workers are registered (README "Scaling out"). It
# recreates CITUS_TEST_DATABASE (chub_citus_test) on every node, migrates and
# distributes it, and runs the HTTP tests against it; see scripts/test-citus.sh.
test-citus: export REDIS_URL ?= redis://127.0.0.1:6379/0
test-citus: build ## Run the HTTP API tests on a Citus cluster (CITUS_COORDINATOR_URL)
	@[[ -n "$${CITUS_COORDINATOR_URL:-}" ]] || { echo 'make test-citus: set CITUS_COORDINATOR_URL (superuser URL of a Citus coordinator)'; exit 2; }
	CUSTOMERHUB_BIN='$(BIN)' bash scripts/test-citus.sh

bench: ## Start services, run the benchmarks (none is fine)
	ADMIN_DATABASE_URL='$(TEST_ADMIN_DATABASE_URL)' $(ENSURE_SERVICES) --require-redis
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=1 -timeout 3h $(PKGS)

# make soak: customerhub api and worker under mixed load with jobs for
# DURATION (cmd/soak): RSS, goroutines, connections and table sizes every
# 10 s into bench/soak.csv and bench/soak.svg; fails on a 5xx, a transport
# error, a job that did not succeed, or RSS or goroutines growing more than
# 10 % after warm-up. Its own database (dropped unless SOAK_KEEP_DB=1) and
# Redis database 7.
DURATION ?= $(or $(SOAK_DURATION),10m)
soak: export REDIS_URL ?= redis://127.0.0.1:6379/7
soak: build ## Soak test: mixed load and jobs for DURATION (10m), leak checks, bench/soak.csv and .svg
	$(ENSURE_SERVICES) --require-redis
	$(GO) run ./cmd/soak -duration $(DURATION) -bin $(BIN)

# make faults: customerhub under the faults a hosted service meets
# (cmd/faults), each scenario's invariants checked by code: PostgreSQL
# restarted under load with jobs running, Redis stopped, a worker killed
# mid-job, the connection pool exhausted, api and worker SIGTERMed. It
# runs its own PostgreSQL and Redis (temporary directories, own ports), so
# the ones make test uses are not touched; ensure-services only makes sure
# their programs are installed. SCENARIOS=a,b runs some.
SCENARIOS ?=
faults: build ## Fault scenarios on a private PostgreSQL and Redis, invariants checked (SCENARIOS=pg-restart,...)
	ADMIN_DATABASE_URL='$(TEST_ADMIN_DATABASE_URL)' $(ENSURE_SERVICES) --require-redis
	$(GO) run ./cmd/faults -bin $(BIN) $(if $(SCENARIOS),-only $(SCENARIOS))

# make fuzz runs every fuzz target of the repository (each func FuzzXxx in
# a _test.go file, found by grep, so new ones are included) for FUZZTIME,
# one after another, and fails at the end naming the targets that failed;
# a failing input is saved under the package's testdata/fuzz/FuzzXxx/.
# The packages' TestMain make a database even for the pure targets, so it
# starts the services as make test does. make test runs it on 1000
# inputs each (TEST_FUZZTIME).
fuzz: ## Run every fuzz target for FUZZTIME (10s) each, one after another
	ADMIN_DATABASE_URL='$(TEST_ADMIN_DATABASE_URL)' $(ENSURE_SERVICES) --require-redis
	@failed=(); \
	while IFS= read -r file; do \
	  pkg=./$$(dirname "$${file#./}"); \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
	    echo "== $$name ($$pkg, $(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "$$pkg" || failed+=("$$name ($$pkg)"); \
	  done; \
	done < <(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor --exclude-dir=.git '^func Fuzz' . | sort); \
	if (( $${#failed[@]} )); then printf 'fuzz target failed: %s\n' "$${failed[@]}"; exit 1; fi

vet: ## go vet
	$(GO) vet $(PKGS)

# make lint: golangci-lint (.golangci.yml: the default linters and the
# depguard rules of STYLE.md), then the OpenAPI description through the
# tools client writers use: Spectral (.spectral.yaml, no error and no
# warning), openapi-typescript and tsc --noEmit over tools/apilint/client.ts,
# and the committed Go client (internal/apiclient) built.
lint: ## golangci-lint; Spectral, a TypeScript client and the Go client over the OpenAPI description
	$(GOLANGCI_LINT) run ./...
	cd $(APILINT) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(APILINT)/gen
	$(OPENAPI_DOC) > $(APILINT)/gen/openapi.json
	$(APILINT)/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn $(APILINT)/gen/openapi.json
	$(APILINT)/node_modules/.bin/openapi-typescript $(APILINT)/gen/openapi.json -o $(APILINT)/gen/api.d.ts
	$(APILINT)/node_modules/.bin/tsc -p $(APILINT)/tsconfig.json
	$(GO) build ./internal/apiclient

fmt: ## gofmt -w the Go files
	$(FIND_GO) | xargs -0 -r gofmt -w

generate: ## Copy the SQL fragments into the queries, regenerate internal/dbsqlc with sqlc, the customer field and filter code, then the Go API client
	$(GO) run ./internal/sqlfrag/gen
	$(SQLC) generate
	$(GO) generate ./internal/customer
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(OPENAPI_DOC) > $$tmp.json && $(OAPI_CODEGEN) -config internal/apiclient/oapi-codegen.yaml $$tmp.json > $$tmp && \
	chmod 644 $$tmp && mv $$tmp internal/apiclient/apiclient.gen.go; rm -f $$tmp.json

check-generated: ## Fail when a query's fragment copy, internal/dbsqlc, the customer field or filter code or the Go API client is stale or any Go file is not gofmt-clean
	$(GO) run ./internal/sqlfrag/gen -check
	$(SQLC) diff
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	for g in gen:fields_gen.go gen/filter:filter_gen.go; do \
	  (cd internal/customer && $(GO) run ./$${g%%:*} $$tmp) && \
	  if ! cmp -s $$tmp internal/customer/$${g#*:}; then echo "internal/customer/$${g#*:} is stale (run make generate)"; exit 1; fi; \
	done
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(OPENAPI_DOC) > $$tmp/openapi.json && \
	$(OAPI_CODEGEN) -config internal/apiclient/oapi-codegen.yaml $$tmp/openapi.json > $$tmp/apiclient.gen.go && \
	if ! cmp -s $$tmp/apiclient.gen.go internal/apiclient/apiclient.gen.go; then echo "internal/apiclient/apiclient.gen.go is stale (run make generate)"; exit 1; fi
	@bad=$$($(FIND_GO) | xargs -0 -r gofmt -l); \
	if [[ -n $$bad ]]; then echo "gofmt needed on (run make fmt):"; echo "$$bad"; exit 1; fi
	@echo 'generated code and formatting are up to date'

clean: ## Remove build output and coverage files
	rm -rf bin/ coverage.out coverage.html *.coverprofile
