# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else here is what they are made of.
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan-ubsan

.PHONY: all deps build build-asan web test test-unit-asan demo bench format tidy clean

all: build

deps:
	@scripts/install-deps.sh

build: deps web
	@test -f $(RELEASE)/build.ninja || cmake --preset release >/dev/null
	cmake --build $(RELEASE) -j $(JOBS)

# The command-centre page: TypeScript built with Vite into web/dist, which the
# server serves. npm installs what web/package-lock.json pins (`npm install`,
# not `npm ci`: the registry here lacks rollup's builds for other platforms,
# so the lock cannot list them and `npm ci` would refuse it).
WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
web: web/dist/index.html
web/dist/index.html: $(WEB_SOURCES) | deps
	cd web && npm install --no-audit --no-fund --loglevel=error && npm run build

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
	$(RELEASE)/src/app/sentinel demo $(if $(SPEED),--speed $(SPEED))

bench: build
	scripts/run-benchmarks.sh

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(RELEASE) --quiet

clean:
	rm -rf build
