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

DEMO_DATA := examples/data/generated
DEMO_SEED ?= 42

$(DEMO_DATA)/streams.jsonl: examples/data/chicago/chicago_crimes_2019H1.csv | build
	$(RELEASE)/tools/citygen all --crimes $< --out-dir $(DEMO_DATA) --seed $(DEMO_SEED)

demo: build $(DEMO_DATA)/streams.jsonl
	$(RELEASE)/src/app/sentinel demo --speed $(or $(SPEED),604800)

bench: build
	scripts/run-benchmarks.sh

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(RELEASE) --quiet

clean:
	rm -rf build
