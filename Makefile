# Entry points. `make demo` runs the main job on the embedded Hanford model;
# `make test` builds and runs the default test suite (what CI runs).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DVED_WITH_MPI=ON

.PHONY: deps deps-test configure build test test-slow demo bench clean

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

demo: build
	scripts/demo.sh $(BUILD)/apps/ved/ved demo-out

bench: deps-test configure
	cmake --build $(BUILD) -j $(JOBS) --target bench
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD)
