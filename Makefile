# Build, test and benchmark the workspace. `make help` lists the targets.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help deps build release test test-loaded lint bench bench-quick clean test-dpdk24 test-dpdk24-in-root

help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

deps: ## install system packages (DPDK 22.11, clang, ...) and reserve hugepages when root
	./scripts/install-deps.sh

build: ## debug build of the whole workspace
	$(CARGO) build --workspace --all-targets

release: ## optimised dpdk-app binary (target/release/dpdk-app)
	$(CARGO) build --release --locked -p dpdk-app

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: lint validate test-scripts ## lint, unit, integration (real DPDK), manifest and script tests
	$(CARGO) test --workspace --locked

test-loaded: ## the DPDK integration tests again, with one stress-ng CPU hog per core beside them
	./scripts/test-loaded.sh

# DPDK 24.11 (Debian 13) in a cached root made from Debian's packages (scripts/dpdk24-root.sh,
# docs/dpdk-versions.md): lint, the whole test suite with 24.11's testpmd and C examples, and the
# 24.11 image variant's package check. Build outputs go to target/dpdk24.
DPDK24_SCRIPT := ./scripts/dpdk24-root.sh

test-dpdk24: ## the test suite against DPDK 24.11 in a Debian 13 root (mmdebstrap, cached; needs root)
	@start=$$(date +%s); $(DPDK24_SCRIPT) create >/dev/null && \
	  echo "test-dpdk24: Debian 13 root ready after $$(( $$(date +%s) - start )) s"
	$(DPDK24_SCRIPT) run $(MAKE) --no-print-directory test-dpdk24-in-root

# Inside the root (DPDK24_ROOT=1 there); each step's time is printed for docs/dpdk-versions.md.
# The image check reads the debug binary: it links exactly the libraries the release one does, and
# a release build would add minutes.
test-dpdk24-in-root:
	@[ "$${DPDK24_ROOT:-}" = 1 ] || { echo "make test-dpdk24-in-root runs inside the Debian 13 root: use make test-dpdk24" >&2; exit 1; }
	@echo "test-dpdk24: DPDK $$(pkg-config --modversion libdpdk), $$(. /etc/os-release && echo $$PRETTY_NAME), CARGO_TARGET_DIR=$$CARGO_TARGET_DIR"
	@t=$$(date +%s); $(CARGO) clippy -p dpdk-sys -p dpdk --all-targets --locked -- -D warnings && \
	  echo "test-dpdk24: clippy of dpdk-sys and dpdk (the crates with version-dependent code) took $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(CARGO) test --workspace --locked --no-run && \
	  echo "test-dpdk24: test build took $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(CARGO) test --workspace --locked && \
	  echo "test-dpdk24: test run took $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); images/build.sh check "$$CARGO_TARGET_DIR/debug/dpdk-app" && \
	  echo "test-dpdk24: images/build.sh check (24.11 variant) took $$(( $$(date +%s) - t )) s"

# `make demo DEMO_ARGS="--app l3fwd --duration 20"`; `dpdk-app demo --help` lists the options.
DEMO_ARGS ?=

.PHONY: demo
demo: ## the traffic test on this machine with a report (installs what is missing, release build)
	./scripts/install-deps.sh
	$(CARGO) build --release --locked -p dpdk-app
	./target/release/dpdk-app demo $(DEMO_ARGS)

.PHONY: rfc2544-demo
rfc2544-demo: ## the RFC 2544 search (deployment/vdpa-dpdk-rfc2544.yaml) on this machine, report in rfc2544-report/
	./scripts/install-deps.sh
	$(CARGO) build --release --locked -p dpdk-app
	./target/release/dpdk-app demo --rfc2544 --report-dir rfc2544-report $(DEMO_ARGS)

# The two bench targets (docs/benchmarks.md); plain `cargo bench` runs the same and also builds
# every crate's libtest harness in release mode.
BENCHES := -p dpdk-app --bench side_by_side --bench per_packet

bench: ## ours vs C side by side (best of DPDK_BENCH_RUNS=5), then per-packet micro-benchmarks
	$(CARGO) bench --locked $(BENCHES)

bench-quick: ## one short run of every benchmark, for CI (numbers not for quoting)
	DPDK_BENCH_QUICK=1 $(CARGO) bench --locked $(BENCHES)

clean: ## remove build outputs
	$(CARGO) clean

.PHONY: test-scripts
test-scripts: ## shellcheck the shell scripts, then test scripts/prepare-node.sh against fake nodes
	shellcheck -x scripts/*.sh scripts/tests/*.sh scripts/tests/fake-node/*.sh scripts/tests/fake-node/kernel scripts/tests/fake-node/bin/*
	scripts/tests/prepare-node.sh

# ---- Container image and Kubernetes (images/, deployment/, docs/kubernetes.md) ----------------------
# The image name the manifests use: `make validate` fails when deployment/*.yaml disagrees.
IMAGE_REPO ?= localhost/dpdk-app
# The tag is dpdk-app's crate version (apps/Cargo.toml, or the workspace's when it inherits it).
IMAGE_TAG ?= $(shell v=$$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' apps/Cargo.toml | head -n1); \
	[ -n "$$v" ] || v=$$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1); \
	echo "$${v:-dev}")
IMAGE ?= $(IMAGE_REPO):$(IMAGE_TAG)
# The image variant (images/Containerfile's DEBIAN_RELEASE): empty = the default, trixie (Debian 13,
# DPDK 24.11); bookworm = Debian 12, DPDK 22.11.
IMAGE_VARIANT ?=
IMAGE_BUILD_ARGS := $(if $(IMAGE_VARIANT),--build-arg DEBIAN_RELEASE=$(IMAGE_VARIANT))
IMAGE_DEVEL ?= $(IMAGE_REPO)-devel:$(IMAGE_TAG)
# docker when its daemon answers, else podman, else whichever CLI exists (so its error shows).
CONTAINER_ENGINE ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v podman >/dev/null 2>&1; then echo podman; \
	elif command -v docker >/dev/null 2>&1; then echo docker; fi)
KUBECTL ?= kubectl
PYTHON ?= python3
# DEPLOY_MULTUS=0: the cluster already runs Multus (>= v3.7, thick or thin) with the NAD CRD.
DEPLOY_MULTUS ?= 1
K8S_TIMEOUT ?= 180s
NAD_CRD := crd/network-attachment-definitions.k8s.cni.cncf.io
NADS := deployment/netAttach-vdpa-vhost-mlx.yaml deployment/netAttach-vdpa-vhost-mlx-1000.yaml \
	deployment/netAttach-vdpa-vhost-mlx-2000.yaml deployment/netAttach-vdpa-virtio-mlx.yaml
TRAFFIC_NADS := deployment/netAttach-vdpa-vhost-mlx-1000.yaml deployment/netAttach-vdpa-vhost-mlx-2000.yaml

.PHONY: all images images-devel print-image validate validate-manifests validate-image \
	deploy undeploy traffic-test traffic-test-clean

all: release images ## release binary and the container image

images: ## build the dpdk-app image (make print-image) with docker or podman; IMAGE_REPO, IMAGE_TAG, IMAGE_VARIANT
	@engine="$(CONTAINER_ENGINE)"; \
	if [ -z "$$engine" ]; then \
	  echo "make images: neither docker nor podman is installed; install one or set CONTAINER_ENGINE=<path>" >&2; \
	  echo "(without an engine, 'make validate-image' still runs the image's build steps on this host)" >&2; \
	  exit 1; \
	fi; \
	ignore=""; case "$$engine" in *podman*) ignore="--ignorefile images/Containerfile.dockerignore";; esac; \
	echo "$$engine build $$ignore $(IMAGE_BUILD_ARGS) -f images/Containerfile -t $(IMAGE) ."; \
	DOCKER_BUILDKIT=1 $$engine build $$ignore $(IMAGE_BUILD_ARGS) -f images/Containerfile -t $(IMAGE) .

images-devel: images ## the devel image (IMAGE_DEVEL): app image + dpdk-testpmd, DPDK tools, debuggers
	@engine="$(CONTAINER_ENGINE)"; \
	echo "$$engine build -f images/Containerfile.devel --build-arg APP_IMAGE=$(IMAGE) -t $(IMAGE_DEVEL) images"; \
	DOCKER_BUILDKIT=1 $$engine build -f images/Containerfile.devel --build-arg APP_IMAGE=$(IMAGE) -t $(IMAGE_DEVEL) images

print-image: ## print the image name the build and the manifests use
	@echo $(IMAGE)

validate: validate-manifests validate-image ## manifest schemas + consistency (with self-tests) and the image build script

validate-manifests: ## deployment/*.yaml: kubernetes-validate (pinned, .venv), NAD CRD schema, consistency, self-tests
	$(PYTHON) scripts/validate-manifests.py

validate-image: ## what images/Containerfile runs: release build (--locked) + runtime package check
	images/build.sh all

deploy: ## install Multus, SR-IOV CNI, device-plugin ConfigMap + DaemonSet and the NADs, in order
ifeq ($(DEPLOY_MULTUS),1)
	$(KUBECTL) apply -f deployment/multus-daemonset.yaml
endif
	$(KUBECTL) wait --for=condition=Established --timeout=$(K8S_TIMEOUT) $(NAD_CRD)
	$(KUBECTL) apply -f deployment/sriovcni-vdpa-daemonset.yaml
	$(KUBECTL) apply -f deployment/configMap-vdpa.yaml
	$(KUBECTL) apply -f deployment/sriovdp-vdpa-daemonset.yaml
	$(KUBECTL) apply $(addprefix -f ,$(NADS))
ifeq ($(DEPLOY_MULTUS),1)
	$(KUBECTL) -n kube-system rollout status --timeout=$(K8S_TIMEOUT) daemonset/kube-multus-ds
endif
	$(KUBECTL) -n kube-system rollout status --timeout=$(K8S_TIMEOUT) daemonset/kube-sriov-cni-ds
	$(KUBECTL) -n kube-system rollout status --timeout=$(K8S_TIMEOUT) daemonset/kube-sriov-device-plugin

undeploy: traffic-test-clean ## remove what deploy installed (and the sample pods), in reverse order
	$(KUBECTL) delete --ignore-not-found -f deployment/vdpa-single.yaml
	if $(KUBECTL) get $(NAD_CRD) >/dev/null 2>&1; then $(KUBECTL) delete --ignore-not-found $(addprefix -f ,$(NADS)); fi
	$(KUBECTL) delete --ignore-not-found -f deployment/sriovdp-vdpa-daemonset.yaml
	$(KUBECTL) delete --ignore-not-found -f deployment/configMap-vdpa.yaml
	$(KUBECTL) delete --ignore-not-found -f deployment/sriovcni-vdpa-daemonset.yaml
ifeq ($(DEPLOY_MULTUS),1)
	$(KUBECTL) -n kube-system delete --ignore-not-found daemonset/kube-multus-ds
	$(KUBECTL) delete --ignore-not-found -f deployment/multus-daemonset.yaml
endif

traffic-test: ## start the generator/sink pods (after make deploy, nodes labelled, image loaded)
	@for role in gen sink; do \
	  $(KUBECTL) get nodes -l vdpa-test-role-$$role=true -o name | grep -q . || { \
	    echo "make traffic-test: no node is labelled vdpa-test-role-$$role=true; run: kubectl label node <node> vdpa-test-role-$$role=true" >&2; exit 1; }; \
	done
	$(KUBECTL) apply $(addprefix -f ,$(TRAFFIC_NADS))
	$(KUBECTL) set image --local -o yaml -f deployment/vdpa-dpdk-traffic-test.yaml '*=$(IMAGE)' | $(KUBECTL) apply -f -
	$(KUBECTL) wait --for=condition=Ready --timeout=$(K8S_TIMEOUT) pod/vdpa-pod-gen pod/vdpa-pod-sink
	@echo "traffic test running: kubectl logs -f vdpa-pod-gen; kubectl logs -f vdpa-pod-sink; stop it with make traffic-test-clean"

traffic-test-clean: ## delete the generator/sink pods (the NADs stay until make undeploy)
	$(KUBECTL) delete --ignore-not-found -f deployment/vdpa-dpdk-traffic-test.yaml
