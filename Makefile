# The README's two commands: `make run` (set up, build, run the main job) and `make test`.
# Both install what is missing first (Debian packages; needs root or sudo).

SIMD_FLAGS := $(shell sh scripts/simd-flags.sh)
RELEASE    := -c release $(SIMD_FLAGS)
APT_PACKAGES := pocl-opencl-icd ocl-icd-opencl-dev opencl-headers clinfo zlib1g-dev libpng-dev
# The tests also drive the server's drawing page in headless Chromium, and two replicas behind
# nginx under wrk's load (deploy/replicas.sh).
TEST_PACKAGES := chromium nginx wrk curl

.PHONY: deps build run test devices bench compare tune-clblast gpu-box clean

deps:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v swift >/dev/null || { echo "Swift 6 is needed: https://swift.org/install"; exit 1; }

build: deps
	swift build $(RELEASE)

# The main job: train the default model (the MLP) on the bundled MNIST on the best device
# found, then save it and its report under out/.
run: build
	.build/release/tessel train

# Release mode: SIMD kernels in a debug build run ~300x slower. `-enable-testing` keeps
# `@testable import` working, and costs speed (softmax ran 2.5x slower), so the tests build in
# their own folder and never replace the `tessel` that `bench` and `compare` time.
# No --parallel: it hides XCTest's summary line when all pass.
test:
	@$(MAKE) --no-print-directory deps EXTRA_PACKAGES="$(TEST_PACKAGES)"
	swift test $(RELEASE) -Xswiftc -enable-testing --scratch-path .build-test

devices: build
	.build/release/tessel devices

# Kernel benchmarks on every device; `compare` adds NumPy and CLBlast side by side.
bench: build
	.build/release/tessel bench

compare: build
	@dpkg -s libclblast-dev >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq libclblast-dev; }
	@python3 -c 'import numpy' 2>/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq python3-numpy; }
	python3 Benchmarks/compare.py

# CLBlast after its tuner, for `compare`: ~30 min on pocl; writes Benchmarks/clblast-tuning/.
tune-clblast:
	@dpkg -s clblast-utils >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -qq clblast-utils; }
	python3 Benchmarks/tune_clblast.py

# A static `tessel` and the OpenCL loader for a GPU machine: see scripts/gpu-box.sh.
gpu-box:
	sh scripts/gpu-box.sh prepare

clean:
	rm -rf .build
