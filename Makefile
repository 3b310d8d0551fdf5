# Everything a fresh Debian 12 machine needs: `make demo` runs the main job, `make check` every test.
# Both install their dependencies first (idempotent: quiet and quick when all is present).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)
PACKAGES   := $(shell grep -v '^\#' packages.txt)
CTEST      := ctest --output-on-failure --no-tests=error
# ccache, when the machine has it, makes rebuilds in several checkouts cheap.
LAUNCHER   := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR ?= $(CURDIR)

.PHONY: all deps build build-asan check check-unit check-integration check-vm check-gui check-package deb bench demo clean

all: build

deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(PACKAGES) 2>/dev/null \
	    | awk '$$1 != "ii" {print $$2}'; \
	  for p in $(PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing: $$(echo $$missing | tr '\n' ' ')"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr $(LAUNCHER)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCOFFER_SANITIZE=ON -DCMAKE_INSTALL_PREFIX=/usr $(LAUNCHER)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# Unit and host integration tests run under ASan+UBSan; the VM and GUI tests use the plain build
# (the VM runs it under software emulation, where sanitizers would only slow it down).
check-unit: build-asan
	cd $(ASAN_BUILD) && $(CTEST) -L unit

check-integration: build-asan
	cd $(ASAN_BUILD) && $(CTEST) -L integration

check-vm: build
	cd $(BUILD) && $(CTEST) -L vm

check-gui: build
	cd $(BUILD) && $(CTEST) -L gui --no-tests=ignore

# The .deb built from this checkout (lintian included), its file list, the desktop files.
check-package: build
	cd $(BUILD) && $(CTEST) -L package

check: build build-asan
	cd $(ASAN_BUILD) && $(CTEST) -L 'unit|integration' -j$(JOBS)
	cd $(BUILD) && $(CTEST) -L 'package|vm|gui'

# The Debian packages, built in a copy of this checkout; they land in $(BUILD)/deb.
deb: deps
	packaging/build-deb $(BUILD)/deb

bench: build
	tests/bench/run-all $(BUILD)

# The packages (make deb), installed in the VM and used as a person would; no test tool.
demo: deb
	tests/vm/demo $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
