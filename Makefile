# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else here is what they are made of.
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan-ubsan

.PHONY: all deps build build-asan test test-unit-asan demo bench format tidy clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@test -f $(RELEASE)/build.ninja || cmake --preset release >/dev/null
	cmake --build $(RELEASE) -j $(JOBS)

build-asan: deps
	@test -f $(ASAN)/build.ninja || cmake --preset asan-ubsan >/dev/null
	cmake --build $(ASAN) -j $(JOBS)

# Every test: unit, golden and integration suites on the release build, then
# the unit suites again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build build-asan
	ctest --test-dir $(RELEASE) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS) -L unit

demo: build
	$(RELEASE)/src/app/sentinel demo

bench: build
	scripts/run-benchmarks.sh

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(RELEASE) --quiet

clean:
	rm -rf build
