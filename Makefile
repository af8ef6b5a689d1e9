# xdphook — build everything into build/.
#
#   make              tools, library, examples
#   make test         every test suite (unit, packet-level, integration)
#   make SANITIZE=1   the same with ASan/UBSan (use a clean build/ or `make clean`)
#   make bench        the benchmark
#   make demo, make k8s-demo   the runc and the Kubernetes (containerd CRI) stories
#   make install PREFIX=/usr/local DESTDIR=
#
# Every lib/*.c goes into build/libxdphook.a; every bpf/*.bpf.c becomes a
# libbpf skeleton build/skel/<name>.skel.h; every test/unit/test_*.c becomes a
# cmocka binary; every test/prog/*.bpf.c a test-only skeleton.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PKG_CONFIG ?= pkg-config

PKGS     := libbpf libxdp libnl-3.0 libnl-route-3.0 libnl-genl-3.0 jansson libelf
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Ilib -I$(BUILD)/skel \
            $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS   += $(shell $(PKG_CONFIG) --libs $(PKGS)) -lz

ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif
# Fault injection points in the hook (hook/fault.h), for tests only.
ifeq ($(TEST_FAULTS),1)
CFLAGS   += -DXH_TEST_FAULTS
endif

ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -Iinclude -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
TBPF_SRCS := $(wildcard test/prog/*.bpf.c)
TBPF_SKELS:= $(patsubst test/prog/%.bpf.c,$(BUILD)/skel/%.skel.h,$(TBPF_SRCS))
BPF_HDRS  := $(wildcard bpf/*.h include/xdphook/*.h)

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_HDRS := $(wildcard lib/*.h include/*.h include/xdphook/*.h)
LIB      := $(BUILD)/libxdphook.a

LOADER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard loader/*.c))
LOADER_LIB_OBJS := $(filter-out $(BUILD)/obj/loader/main.o,$(LOADER_OBJS))
# The keeper is a program of its own (hook/keeper_run.c, exec'd by the
# hook): libc, jansson and two library modules, so it stays small.
KEEPER_OBJS := $(BUILD)/obj/hook/keeper_run.o $(BUILD)/obj/lib/util.o $(BUILD)/obj/lib/endpoint_proto.o
HOOK_OBJS   := $(filter-out $(KEEPER_OBJS),$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard hook/*.c)))
RUNTIME_OBJS:= $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard runtime/*.c))
TOOLS       := $(BUILD)/xdp_loader $(if $(HOOK_OBJS),$(BUILD)/xdp_hook $(BUILD)/xdphook-keeper) $(BUILD)/xdp_runtime

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
PROG_SRCS := $(filter-out %.bpf.c,$(wildcard test/prog/*.c))
PROG_BIN  := $(if $(PROG_SRCS),$(BUILD)/test/test_progs)

.PHONY: all test test-unit test-prog test-integration bench bench-gvisor demo demo-loader k8s-demo install clean
.SECONDARY:
.DELETE_ON_ERROR:

all: $(TOOLS)

# --- BPF -> skeletons -------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: test/prog/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# --- user space ---------------------------------------------------------------
$(BUILD)/obj/%.o: %.c $(LIB_HDRS) $(BPF_SKELS) $(wildcard loader/*.h hook/*.h) | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iloader -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/xdp_loader: $(LOADER_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/xdp_hook: $(HOOK_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/xdp_runtime: $(RUNTIME_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/xdphook-keeper: $(KEEPER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs jansson)

# --- tests --------------------------------------------------------------------
# Unit tests may use any library or loader module (not main).
$(BUILD)/test/test_%: test/unit/test_%.c $(LOADER_LIB_OBJS) $(LIB) | $(BUILD)/test
	$(CC) $(CFLAGS) -Iloader $(LDFLAGS) -o $@ $< $(LOADER_LIB_OBJS) $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/test/test_progs: $(PROG_SRCS) $(wildcard test/prog/*.h) $(TBPF_SKELS) $(LIB) | $(BUILD)/test
	$(CC) $(CFLAGS) -Itest/prog $(LDFLAGS) -o $@ $(PROG_SRCS) $(LIB) $(LDLIBS) -lcmocka

test: test-unit test-prog test-integration
	@echo "all test suites passed"

# test_faults.sh's hook: the hook objects compiled again with the fault
# points on, linked with the normal library (`make TEST_FAULTS=1` builds
# every tool with them instead).
FAULT_HOOK := $(BUILD)/faults/xdp_hook
FAULT_OBJS := $(patsubst $(BUILD)/obj/%,$(BUILD)/faults/obj/%,$(HOOK_OBJS))
test-integration: $(FAULT_HOOK) $(BUILD)/faults/xdphook-keeper
# The hook looks for the keeper next to itself.
$(BUILD)/faults/xdphook-keeper $(BUILD)/test/xdphook-keeper: $(BUILD)/xdphook-keeper
	@mkdir -p $(dir $@)
	ln -sf ../xdphook-keeper $@

$(BUILD)/faults/obj/%.o: %.c $(LIB_HDRS) $(BPF_SKELS) $(wildcard hook/*.h) | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DXH_TEST_FAULTS -c $< -o $@

$(FAULT_HOOK): $(FAULT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test-unit: $(UNIT_BINS)
	@test/run-unit.sh $(UNIT_BINS)

test-prog: $(PROG_BIN)
	@test/run-unit.sh $(PROG_BIN)

test-integration: $(TOOLS)
	@BUILD=$(abspath $(BUILD)) test/integration/run.sh

demo: all
	@BUILD=$(BUILD) scripts/demo.sh

demo-loader: $(TOOLS)
	@BUILD=$(BUILD) scripts/demo-loader.sh

k8s-demo: all
	@BUILD=$(BUILD) scripts/k8s-demo.sh

bench: $(TOOLS)
	@BUILD=$(abspath $(BUILD)) test/bench/run.sh

# The gVisor figures alone (also part of make bench).
bench-gvisor: all
	@BUILD=$(abspath $(BUILD)) test/bench/gvisor.sh

install: $(TOOLS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

# --- AF_XDP endpoint: client library, exec wrapper, example -----------------
# libxdp_endpoint carries the protocol module (lib/endpoint_proto.c, also in
# libxdphook.a for the keeper) but nothing else of libxdphook: it needs
# libc, jansson and libxdp's headers only. Position-independent objects
# serve both the static and the shared library.
EP_SRCS     := endpoint/libxdp_endpoint.c lib/endpoint_proto.c
EP_PIC_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(EP_SRCS))
EP_LIB_A    := $(BUILD)/libxdp_endpoint.a
EP_LIB_SO   := $(BUILD)/libxdp_endpoint.so
EP_SONAME   := libxdp_endpoint.so.1
EP_PC       := $(BUILD)/xdp_endpoint.pc
EP_LDLIBS   := $(shell $(PKG_CONFIG) --libs jansson)
EP_OBJS     := $(BUILD)/obj/endpoint/xdp_endpoint_exec.o $(BUILD)/obj/examples/xdp_echo.o \
               $(BUILD)/obj/test/harness/ep_client.o
ENDPOINT    := $(EP_LIB_A) $(EP_LIB_SO) $(EP_PC) $(BUILD)/xdp_endpoint $(BUILD)/xdp_echo
# xdp_tap: the endpoint bridged to a TAP device (needs libnl-route-3 too).
EP_OBJS     += $(BUILD)/obj/examples/xdp_tap.o
ENDPOINT    += $(BUILD)/xdp_tap
# Integration helpers: the keeper without the hook, misbehaving clients.
HARNESS     := $(BUILD)/test/keeper_harness $(BUILD)/test/ep_client

.PHONY: install-endpoint
all: $(ENDPOINT)
test-integration: $(ENDPOINT) $(HARNESS)
install: install-endpoint

$(EP_OBJS): $(wildcard endpoint/*.h)
$(BUILD)/obj/test/harness/%.o: CFLAGS += -Ihook

$(BUILD)/pic/%.o: %.c $(LIB_HDRS) $(wildcard endpoint/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(EP_LIB_A): $(EP_PIC_OBJS)
	rm -f $@ && ar rcs $@ $^

# Only xdp_endpoint_* leaves the shared library (version script).
$(BUILD)/$(EP_SONAME): $(EP_PIC_OBJS) endpoint/libxdp_endpoint.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(EP_SONAME) \
		-Wl,--version-script=endpoint/libxdp_endpoint.map -o $@ $(EP_PIC_OBJS) $(EP_LDLIBS)

$(EP_LIB_SO): $(BUILD)/$(EP_SONAME)
	ln -sf $(EP_SONAME) $@

$(EP_PC): Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' 'libdir=$${prefix}/lib' '' \
		'Name: xdp_endpoint' 'Description: Client of the xdphook AF_XDP endpoint' \
		'Version: 1.0.0' 'Requires.private: libxdp jansson' 'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lxdp_endpoint' > $@

$(BUILD)/xdp_endpoint: $(BUILD)/obj/endpoint/xdp_endpoint_exec.o $(EP_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(EP_LDLIBS)

$(BUILD)/xdp_echo: $(BUILD)/obj/examples/xdp_echo.o $(EP_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(EP_LDLIBS)

$(BUILD)/xdp_tap: $(BUILD)/obj/examples/xdp_tap.o $(EP_LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(EP_LDLIBS) $(shell $(PKG_CONFIG) --libs libnl-route-3.0)

$(BUILD)/test/ep_client: $(BUILD)/obj/test/harness/ep_client.o $(EP_LIB_A) | $(BUILD)/test
	$(CC) $(LDFLAGS) -o $@ $^ $(EP_LDLIBS)

$(BUILD)/test/keeper_harness: $(BUILD)/obj/test/harness/keeper_harness.o \
		$(BUILD)/obj/hook/keeper.o $(LIB) | $(BUILD)/test $(BUILD)/test/xdphook-keeper
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

install-endpoint: $(ENDPOINT)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BUILD)/xdp_endpoint $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 include/xdp_endpoint.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 $(EP_LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/$(EP_SONAME) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(EP_SONAME) $(DESTDIR)$(PREFIX)/lib/libxdp_endpoint.so
	sed 's|^prefix=.*|prefix=$(PREFIX)|' $(EP_PC) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/xdp_endpoint.pc

# --- Go: the endpoint's Go package and xdp_gvisor (gVisor's netstack) -------
# Built when Go and Debian's gVisor sources (golang-gvisor-gvisor-dev) are
# installed, skipped with a note otherwise. GOPATH mode over the Debian
# sources; the package endpoint/go is xdphook/xdpendpoint through a link in
# $(BUILD)/gopath.
GO         ?= go
GVISOR_SRC ?= /usr/share/gocode/src/gvisor.dev/gvisor
HAVE_GO    := $(shell command -v $(GO) >/dev/null 2>&1 && test -d $(GVISOR_SRC)/pkg/tcpip/link/xdp && echo 1)
GOPATH_DIR := $(abspath $(BUILD))/gopath
# Go's build cache: the user's, or one in $(BUILD) where there is no HOME.
GOCACHE    ?= $(if $(HOME),$(HOME)/.cache/go-build,$(abspath $(BUILD))/gocache)
GO_ENV     := GO111MODULE=off GOFLAGS= GOPATH=$(GOPATH_DIR):/usr/share/gocode GOCACHE=$(GOCACHE)
GO_PKG_LINK:= $(GOPATH_DIR)/src/xdphook/xdpendpoint
.PHONY: test-go
ifeq ($(HAVE_GO),1)
all: $(BUILD)/xdp_gvisor
test-integration: $(BUILD)/xdp_gvisor
bench: $(BUILD)/xdp_gvisor
test-unit: test-go
$(GO_PKG_LINK):
	@mkdir -p $(dir $@)
	ln -sfn $(abspath endpoint/go) $@
$(BUILD)/xdp_gvisor: $(wildcard examples/gvisor/*.go endpoint/go/*.go) | $(GO_PKG_LINK)
	cd examples/gvisor && $(GO_ENV) $(GO) build -o $(abspath $@) .
test-go: | $(GO_PKG_LINK)
	cd $(GO_PKG_LINK) && $(GO_ENV) $(GO) test -count=1 .
else
all test-go:
	@echo "note: Go or golang-gvisor-gvisor-dev not installed: xdp_gvisor and the Go package not built"
endif

$(BUILD)/bpf $(BUILD)/skel $(BUILD)/obj $(BUILD)/test:
	mkdir -p $@

clean:
	rm -rf $(BUILD)

# --- fuzzing: libFuzzer + ASan/UBSan, built with clang ------------------------
# One target per untrusted input, test/fuzz/fuzz_<name>.c, linked with the
# lib/*.c it needs compiled from source with the fuzzer flags (libxdphook.a
# is gcc-built, without coverage) into $(BUILD)/fuzz/. Seeds in
# test/fuzz/corpus/<name>/, dictionaries test/fuzz/<name>.dict, inputs that
# once crashed in test/fuzz/regressions/<name>/. `make test-fuzz` replays the
# regressions, then fuzzes every target FUZZ_TIME seconds (see test/fuzz/README.md).
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_NAMES   := oci_state config endpoint_proto pktprint
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_TIME    ?= 30
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Iinclude -Ilib \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer $(shell $(PKG_CONFIG) --cflags jansson libxdp)
FUZZ_LDLIBS  := $(shell $(PKG_CONFIG) --libs jansson)
fuzz_oci_state_SRCS      := lib/oci.c lib/config.c lib/util.c
fuzz_config_SRCS         := lib/config.c lib/oci.c lib/util.c
fuzz_endpoint_proto_SRCS := lib/endpoint_proto.c
fuzz_pktprint_SRCS       := lib/pktprint.c lib/util.c
FUZZ_SRCS    := $(sort $(foreach n,$(FUZZ_NAMES),$(fuzz_$(n)_SRCS)))

.PHONY: fuzz test-fuzz
fuzz: $(FUZZ_BINS)
# The fuzzers carry their own sanitizers: run them once, not again in the
# SANITIZE=1 pass.
ifneq ($(SANITIZE),1)
test: test-fuzz
endif
# Within `make -j2 test` the fuzzers (a CPU each, for minutes) run after the
# integration tests, never beside them: those measure live traffic.
ifneq ($(filter test,$(MAKECMDGOALS)),)
test-fuzz: | test-integration
endif

$(FUZZ_DIR)/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_$*_SRCS) $(FUZZ_LDLIBS)

test-fuzz: $(FUZZ_BINS)
	@FUZZ_TIME=$(FUZZ_TIME) test/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_NAMES)

# --- benchmark (make bench): traffic generator and the consumers it measures --
# xdp_gen is a tool of its own (also used by the integration tests); the
# helpers live in build/bench/, next to the results.
BENCH_TOOLS := $(BUILD)/xdp_gen $(BUILD)/bench/ep_count $(BUILD)/bench/ep_blast \
               $(BUILD)/bench/udp_count $(BUILD)/bench/udp_blast $(BUILD)/bench/napi_set \
               $(BUILD)/bench/pkt_count
all: $(BUILD)/xdp_gen
bench: $(BENCH_TOOLS) $(ENDPOINT)
test-integration: $(BUILD)/xdp_gen

$(BUILD)/bpf/xdp_gen.bpf.o: bench/xdp_gen.h
# test/prog/test_malformed.c runs the generator's malformed frames.
$(BUILD)/test/test_progs: bench/xdp_gen.h bench/xdp_gen_kinds.h
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/*.c)): $(wildcard bench/*.h)

$(BUILD)/xdp_gen: $(BUILD)/obj/bench/xdp_gen.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/ep_count: $(BUILD)/obj/bench/ep_count.o $(EP_LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/ep_blast: $(BUILD)/obj/bench/ep_blast.o $(EP_LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(EP_LDLIBS)

$(BUILD)/bench/napi_set: $(BUILD)/obj/bench/napi_set.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/udp_count $(BUILD)/bench/udp_blast: $(BUILD)/bench/%: $(BUILD)/obj/bench/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/pkt_count: $(BUILD)/obj/bench/pkt_count.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# --- load tests: soak, concurrency, churn under load --------------------------
# test_soak.sh, test_parallel.sh, test_churn.sh run in `make test` (the soak
# with 50 cycles); `make soak` runs the soak alone with SOAK_CYCLES (300),
# outside run.sh's 300 s limit. rusage_wrap stands in the bundles' hook path
# and logs the hook's peak RSS on every invocation.
SOAK_CYCLES ?= 300
.PHONY: soak
test-integration: $(BUILD)/test/rusage_wrap
soak: $(TOOLS) $(ENDPOINT) $(HARNESS) $(BUILD)/test/rusage_wrap
	@SOAK_CYCLES=$(SOAK_CYCLES) BUILD=$(abspath $(BUILD)) \
		timeout --kill-after=10 3600 bash test/integration/test_soak.sh

$(BUILD)/test/rusage_wrap: $(BUILD)/obj/test/harness/rusage_wrap.o | $(BUILD)/test
	$(CC) $(LDFLAGS) -o $@ $^
