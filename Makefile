# Entry points. `make demo` runs the main job on the embedded Hanford model;
# `make test` builds and runs the test suite, its slow group and the checked job (what CI runs).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DVED_WITH_MPI=ON

.PHONY: deps deps-test configure build test test-fast test-slow check-build test-checked test-sanitize test-fuzz demo bench clean

deps:
	@scripts/install-deps.sh

deps-test:
	@scripts/install-deps.sh --test

configure: deps
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Everything but the GPU group: the unit and integration tests, then the slow group (full
# trainings: the CLI training tests, the Darcy acceptance, `ved demo --quick`; ~10 minutes
# on 2 cores), then the checked job. `make test-fast` skips the slow group.
test: deps-test configure
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE "slow|gpu|fuzz"
	cd $(BUILD) && ctest --output-on-failure -L slow
	$(MAKE) --no-print-directory test-checked

test-fast: deps-test configure
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE "slow|gpu|fuzz"

test-slow: deps-test build
	cd $(BUILD) && ctest --output-on-failure -L slow

# The checked job, part of `make test`: one clang build with AddressSanitizer +
# UndefinedBehaviorSanitizer + libFuzzer hooks, without LibTorch (not instrumented, slow
# to build) and with assertions on (-O1, no NDEBUG). It runs the unit tests (file loaders,
# physics, data, baselines, the torch-free `ved` verbs) and every fuzz target for
# FUZZ_SECONDS from its corpus, after replaying its kept crash inputs. Cold build ~4 min
# on 2 cores, tests ~1 min. See docs/reliability.md.
CHECK_BUILD ?= build-checked
FUZZ_SECONDS ?= 10
CHECK_FLAGS ?= -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DCMAKE_C_FLAGS="-O1 -g1" \
  -DVED_FUZZ=ON -DVED_WITH_TORCH=OFF -DVED_WITH_PYTHON=OFF -DVED_WITH_MPI=OFF -DVED_BUILD_BENCH=OFF
CHECK_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 VED_FUZZ_SECONDS=$(FUZZ_SECONDS)
check-build: deps-test
	@test -f $(CHECK_BUILD)/build.ninja || CC=clang CXX=clang++ cmake -S . -B $(CHECK_BUILD) -G Ninja $(CHECK_FLAGS)
	cmake --build $(CHECK_BUILD) -j $(JOBS)

test-checked: check-build
	cd $(CHECK_BUILD) && $(CHECK_ENV) ctest --output-on-failure -j $(JOBS) -L "unit|fuzz"

# The same build: the unit tests only, or a longer fuzzing run (make test-fuzz FUZZ_SECONDS=600).
test-sanitize: check-build
	cd $(CHECK_BUILD) && $(CHECK_ENV) ctest --output-on-failure -j $(JOBS) -L unit

test-fuzz: FUZZ_SECONDS = 120
test-fuzz: check-build
	cd $(CHECK_BUILD) && $(CHECK_ENV) ctest --output-on-failure -j $(JOBS) -L fuzz

demo: build
	scripts/demo.sh $(BUILD)/apps/ved/ved demo-out

bench: deps-test configure
	cmake --build $(BUILD) -j $(JOBS) --target bench
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
