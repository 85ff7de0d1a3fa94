# Entry points. `make demo` runs the main job on the embedded Hanford model;
# `make test` builds and runs the default test suite (what CI runs).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DVED_WITH_MPI=ON

.PHONY: deps deps-test configure build test test-slow test-sanitize test-fuzz demo bench clean

deps:
	@scripts/install-deps.sh

deps-test:
	@scripts/install-deps.sh --test

configure: deps
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: deps-test configure
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE "slow|gpu|fuzz"

test-slow: deps-test build
	cd $(BUILD) && ctest --output-on-failure -L slow

# ASan + UBSan over the unit tests. Without LibTorch (not instrumented, slow to build):
# the file loaders, physics, data and baselines. See docs/reliability.md.
ASAN_BUILD ?= build-asan
SANITIZE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVED_SANITIZE=ON -DVED_WITH_TORCH=OFF -DVED_BUILD_BENCH=OFF
test-sanitize: deps-test
	@test -f $(ASAN_BUILD)/build.ninja || cmake -S . -B $(ASAN_BUILD) -G Ninja $(SANITIZE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  ctest --output-on-failure -j $(JOBS) -L unit

# libFuzzer targets for every file loader, each run for a bounded time (tests/fuzz).
FUZZ_BUILD ?= build-fuzz
FUZZ_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVED_FUZZ=ON -DVED_WITH_TORCH=OFF -DVED_BUILD_BENCH=OFF
test-fuzz: deps-test
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja $(FUZZ_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

demo: build
	scripts/demo.sh $(BUILD)/apps/ved/ved demo-out

bench: deps-test configure
	cmake --build $(BUILD) -j $(JOBS) --target bench
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
