# Build, test and benchmark the workspace. `make help` lists the targets.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help deps build release test lint bench clean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

deps: ## install system packages (DPDK 22.11, clang, ...) and reserve hugepages when root
	./scripts/install-deps.sh

build: ## debug build of the whole workspace
	$(CARGO) build --workspace --all-targets

release: ## optimised dpdk-app binary (target/release/dpdk-app)
	$(CARGO) build --release --locked -p dpdk-app

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: lint ## everything CI runs: lint, unit, integration (real DPDK) and manifest tests
	$(CARGO) test --workspace --locked

bench: ## side-by-side benchmarks against the C references
	$(CARGO) bench --workspace --locked

clean: ## remove build outputs
	$(CARGO) clean
