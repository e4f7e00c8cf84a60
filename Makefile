# libprofile — build, test, install.
#
#   make            build build/libprofile.{a,so}, libprofile.pc and the examples
#   make demo       play the seed scene with examples/frontdesk
#   make check      run every test suite (C with Criterion, Python with pytest)
#   make check-asan the C tests under AddressSanitizer + UBSan (leaks included)
#   make bench      benchmarks; they print their figures
#   make check-chain / bench-chain   libprofile-sync's long run and figures
#                   (libprofile/sync/sync.mk; its short tests are in check)
#   make install    PREFIX=/usr/local DESTDIR=
#   make WERROR=0   the same targets with warnings not fatal (-Werror is
#                   on by default, and always in CI: .ci/run)
#
# `deps` installs missing Debian packages (apt-get as root, else sudo);
# every user-facing target depends on it.
#
# Dependencies: library and test objects are compiled with -MMD -MP and
# the .d files beside them are included, so each object depends on the
# headers it actually includes (any header, renamed or new ones too).
#
# The version is written once, in include/libprofile.h (PF_VERSION_MAJOR,
# _MINOR, _PATCH); VERSION below is read from there.  tests/check_version.py
# (`make _check-version`, part of `make check`) fails if the other places
# that state it disagree.

VERSION      := $(shell awk '$$1 ~ /^.define$$/ && $$2 ~ /^PF_VERSION_(MAJOR|MINOR|PATCH)$$/ \
                  { v[$$2] = $$3 } END { print v["PF_VERSION_MAJOR"] "." v["PF_VERSION_MINOR"] "." v["PF_VERSION_PATCH"] }' \
                  include/libprofile.h)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error cannot read PF_VERSION_MAJOR/MINOR/PATCH from include/libprofile.h)
endif
SOVERSION    := 0
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

CC       ?= cc
PYTHON   ?= /usr/bin/python3
BUILD    ?= build
PKG_CONFIG ?= pkg-config

LIB_PKGS  := lmdb msgpack uuid libutf8proc jansson
# libcsv ships no pkg-config file: its header is checked and -lcsv added.
CSV_LIBS  := -lcsv
TEST_PKGS := criterion
DEB_PKGS  := build-essential pkg-config liblmdb-dev lmdb-utils libmsgpack-dev uuid-dev \
             libutf8proc-dev libjansson-dev libcsv-dev tzdata libcriterion-dev \
             python3-dev python3-cffi python3-pytest
# libprofile-sync (libprofile/sync/sync.mk): libnats, and the server its
# tests start on a loopback port.
DEB_PKGS  += nats-server libnats-dev
# The browser tests (tests/web, `make _check-web`): headless Chromium driven
# by Selenium, and a CJK font so that their screenshots show the Chinese page.
WEB_DEB_PKGS := chromium chromium-driver python3-selenium fonts-wqy-microhei
DEB_PKGS  += $(WEB_DEB_PKGS)

# pkg-config is only asked once deps has run (recursive make below).
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null) $(CSV_LIBS)
TEST_CFLAGS_PKG = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS_PKG   = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

OPT      ?= -O2 -g
# Warnings are errors unless WERROR=0 (for a user whose newer compiler
# warns about something; CI and development builds keep -Werror).
WERROR   ?= 1
WARN     := -Wall -Wextra -Wformat=2 $(if $(filter 0,$(WERROR)),,-Werror)
# Each object also writes its header dependencies (foo.o -> foo.d); -MP
# adds an empty rule per header, so a removed or renamed header is no error.
DEPFLAGS := -MMD -MP
# Hardening: checked libc calls and stack canaries in every build.
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
BASE_CFLAGS = -std=c11 $(WARN) $(HARDEN) $(OPT) -fvisibility=hidden -D_GNU_SOURCE -Iinclude -Ilibprofile
SAN      ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

LIB_SRCS  := $(wildcard libprofile/*.c)
LIB_OBJS  := $(patsubst libprofile/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
# Every header, for the programs under tests/*/ built straight from their
# sources against them (fuzz, oom); the library and the Criterion suite
# track their real includes instead (DEPFLAGS, the .d files).
LIB_HDRS  := include/libprofile.h $(wildcard libprofile/*.h)
# tests/fixtures/test_*.c: suites over checked-in databases (the schema-1 fixture).
TEST_SRCS := $(wildcard tests/*.c) $(wildcard tests/fixtures/test_*.c)
TEST_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/obj/%.o,$(TEST_SRCS))
# Each examples/*.c is a program of its own; frontdesk is the directory
# examples/frontdesk/ (one file per command group).
EXAMPLES  := $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c)) $(BUILD)/frontdesk
FRONTDESK_SRCS := $(wildcard examples/frontdesk/*.c)
FRONTDESK_HDRS := $(wildcard examples/frontdesk/*.h)

STATIC  := $(BUILD)/libprofile.a
SONAME  := libprofile.so.$(SOVERSION)
SHARED  := $(BUILD)/libprofile.so.$(VERSION)
PCFILE  := $(BUILD)/libprofile.pc

.PHONY: all deps lib examples demo check check-c check-python check-asan check-valgrind bench \
        install uninstall clean python _all _check-c _check-asan _check-readme _demo _bench
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory _all

_all: lib examples python

lib: $(STATIC) $(SHARED) $(PCFILE)

# ---------------------------------------------------------------- deps
# Checks with pkg-config (and for pytest/cffi under $(PYTHON)); installs
# what is missing.  Never runs apt-get when everything is present.
deps:
	@missing=""; \
	for p in $(LIB_PKGS) $(TEST_PKGS); do \
	  $(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p"; \
	done; \
	command -v $(PKG_CONFIG) >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	[ -f /usr/include/csv.h ] || missing="$$missing libcsv-dev"; \
	[ -d /usr/share/zoneinfo/Asia ] || missing="$$missing tzdata"; \
	$(PKG_CONFIG) --exists libnats 2>/dev/null || missing="$$missing libnats-dev"; \
	command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing="$$missing nats-server"; \
	$(PYTHON) -c 'import cffi, pytest' >/dev/null 2>&1 || missing="$$missing python3-cffi/pytest"; \
	[ -f /usr/include/python3*/Python.h ] 2>/dev/null || ls /usr/include/python3*/Python.h >/dev/null 2>&1 || missing="$$missing python3-dev"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	$(PYTHON) -c 'import selenium' >/dev/null 2>&1 || missing="$$missing python3-selenium"; \
	[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: missing:$$missing"; \
	cmd="apt-get install -y --no-install-recommends $(DEB_PKGS)"; \
	if [ "$$(id -u)" = 0 ]; then run=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then run="sudo"; \
	else echo "deps: cannot install packages (not root, no sudo). Run as root:"; \
	     echo "  apt-get update && $$cmd"; exit 1; fi; \
	echo "deps: $$run apt-get update && $$run $$cmd"; \
	DEBIAN_FRONTEND=noninteractive $$run apt-get update -q >/dev/null && \
	DEBIAN_FRONTEND=noninteractive $$run $$cmd || \
	{ echo "deps: apt-get failed; run: apt-get update && $$cmd"; exit 1; }

# ---------------------------------------------------------------- library
$(BUILD)/obj/%.o: libprofile/%.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -fPIC -c $< -o $@

$(BUILD)/obj $(BUILD)/tests $(BUILD)/tests/obj:
	@mkdir -p $@

$(STATIC): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
	ln -sf libprofile.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libprofile.so

# Regenerated on every build so that `make install PREFIX=...` records the
# prefix it installs to; only rewritten when the text changes.
$(PCFILE): FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' \
	  'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: libprofile' \
	  'Description: Hotel guest preference profiles and personalised-service prompts' \
	  'Version: $(VERSION)' \
	  'Requires.private: $(LIB_PKGS)' \
	  'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -lprofile' \
	  'Libs.private: $(CSV_LIBS) -lpthread' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

# ---------------------------------------------------------------- examples
examples: $(EXAMPLES)

$(BUILD)/%: examples/%.c examples/cli.h $(STATIC) include/libprofile.h
	$(CC) -std=c11 $(WARN) $(OPT) $(SAN) -D_GNU_SOURCE -Iinclude $(CFLAGS) -o $@ $< $(STATIC) $(ALL_LDFLAGS) $(PKG_LIBS) -lpthread

# frontdesk's `sync` (chain.c) links libprofile-sync and NATS's C client.
$(BUILD)/frontdesk: $(FRONTDESK_SRCS) $(FRONTDESK_HDRS) examples/cli.h $(BUILD)/libprofile-sync.a $(STATIC) \
                    include/libprofile.h include/libprofile_sync.h
	$(CC) -std=c11 $(WARN) $(OPT) $(SAN) -D_GNU_SOURCE -Iinclude $(CFLAGS) -o $@ $(FRONTDESK_SRCS) \
	  $(BUILD)/libprofile-sync.a $(STATIC) $(ALL_LDFLAGS) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null) -lpthread

demo: deps
	@$(MAKE) --no-print-directory _demo

_demo: _all
	@BUILD=$(BUILD) sh examples/demo.sh

# The two-hotel scene: Macau and Lisbon synced through a nats-server of
# the demo's own (loopback, temporary directory; examples/chain/).
.PHONY: demo-chain _demo-chain
demo-chain: deps
	@$(MAKE) --no-print-directory _demo-chain

_demo-chain: _all
	@BUILD=$(BUILD) sh examples/chain/demo_chain.sh

# The kiosk page (examples/kiosk_web) on a demo database of its own,
# $(BUILD)/kiosk-web/ (guests booked to arrive today): open
# http://127.0.0.1:$(KIOSK_PORT)/ and try zw@example.com with RES-88101.
KIOSK_PORT ?= 8080
.PHONY: kiosk-web _kiosk-web
kiosk-web: deps
	@$(MAKE) --no-print-directory _kiosk-web

_kiosk-web: _all
	@mkdir -p $(BUILD)/kiosk-web
	$(PYTHON) examples/kiosk_web/seed.py $(BUILD)/kiosk-web/db $(BUILD)/kiosk-web/arrivals.csv
	$(PYTHON) examples/kiosk_web/server.py -d $(BUILD)/kiosk-web/db \
	  --arrivals $(BUILD)/kiosk-web/arrivals.csv --port $(KIOSK_PORT)

# ---------------------------------------------------------------- tests
TEST_BIN := $(BUILD)/tests/test_libprofile

# One object per tests/*.c (changing a test recompiles only it), linked
# into one Criterion binary.
$(BUILD)/tests/obj/%.o: tests/%.c | $(BUILD)/tests/obj
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS_PKG) $(DEPFLAGS) -c $< -o $@

$(TEST_BIN): $(TEST_OBJS) $(STATIC) | $(BUILD)/tests
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(STATIC) $(PKG_LIBS) $(TEST_LIBS_PKG) -lpthread

check: deps
	@$(MAKE) --no-print-directory _check-version
	@$(PYTHON) tests/owners.py
	@$(MAKE) --no-print-directory _check-c
	@$(MAKE) --no-print-directory _check-threads
	@$(MAKE) --no-print-directory _check-oom-short
	@$(MAKE) --no-print-directory _check-crash-short
	@$(MAKE) --no-print-directory _check-stress-short
	@$(MAKE) --no-print-directory _check-corrupt-short
	@$(MAKE) --no-print-directory _check-chain-short
	@$(MAKE) --no-print-directory _check-cli
	@$(MAKE) --no-print-directory check-python
	@$(MAKE) --no-print-directory _check-web
	@$(MAKE) --no-print-directory _check-readme

# The README's C example, built exactly as the README says: `make install
# PREFIX=...`, PKG_CONFIG_PATH, an rpath; run twice (the second run finds
# the guest and re-fires the same reservation id).
RD := $(BUILD)/readme
_check-readme: _all
	@rm -rf $(RD) && mkdir -p $(RD)
	@$(MAKE) --no-print-directory install PREFIX=$(abspath $(RD)/prefix) >/dev/null
	@awk '/readme-example:start/ {f=1; next} /readme-example:end/ {f=0} f && !/^```/' README.md > $(RD)/hello.c
	cd $(RD) && export PKG_CONFIG_PATH=$(abspath $(RD)/prefix)/lib/pkgconfig && \
	  $(CC) -std=c11 -Wall -Wextra -Werror hello.c $$($(PKG_CONFIG) --cflags --libs libprofile) \
	    -Wl,-rpath,$(abspath $(RD)/prefix)/lib -o hello
	cd $(RD) && ./hello > hello.out && ./hello >> hello.out && cat hello.out && \
	  [ "$$(grep -c '^front_desk   high   Assign a room on floor 10$$' hello.out)" = 2 ] && \
	  [ "$$(wc -l < hello.out)" = 2 ] && echo "README example: ok (run twice)"
	@$(MAKE) --no-print-directory $(PCFILE) >/dev/null

# Header, Makefile, .pc, pyproject.toml, the Python package and CHANGELOG.md
# agree on the version (the rules are at the top of tests/check_version.py).
.PHONY: _check-version
_check-version: $(PCFILE) python
	$(PYTHON) tests/check_version.py --make-version $(VERSION) --pc $(PCFILE)

_check-c: _all $(TEST_BIN)
	$(TEST_BIN) --jobs 2

# frontdesk as a user runs it: the built binary in temporary directories.
# No cache provider and no bytecode: pytest writes nothing into the tree.
.PHONY: _check-cli
_check-cli: $(BUILD)/frontdesk $(BUILD)/kiosk
	FRONTDESK=$(abspath $(BUILD)/frontdesk) PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/cli

# The kiosk page and the quality dashboard in headless Chromium (tests/web);
# screenshots go to $(BUILD)/web-shots/.  Never skipped: a browser that
# cannot start fails the run.
.PHONY: _check-web
_check-web: _all
	FRONTDESK=$(abspath $(BUILD)/frontdesk) WEB_SHOTS=$(abspath $(BUILD)/web-shots) \
	  PYTHONDONTWRITEBYTECODE=1 $(PYTHON) -m pytest -q -p no:cacheprovider tests/web

check-python: deps
	@if [ -f bindings/python/Makefile.inc ] || [ -d bindings/python/tests ]; then \
	  $(MAKE) --no-print-directory _check-python; \
	else echo "check-python: no Python bindings yet"; fi

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" _check-asan

# Criterion counts a test that leaks as passed, so the log is scanned too.
_check-asan: $(TEST_BIN)
	@log=$(BUILD)/asan.log; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(TEST_BIN) --jobs 2 >$$log 2>&1; st=$$?; \
	cat $$log; \
	if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' $$log; then \
	  echo "check-asan: sanitizer reports above"; exit 1; fi; exit $$st

# The Criterion suite under valgrind's memcheck: every test process
# (Criterion runs each in a child) is traced; any error or leak fails.
check-valgrind: deps
	@$(MAKE) --no-print-directory _all $(TEST_BIN)
	PF_UNDER_VALGRIND=1 valgrind --quiet --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
	  --error-exitcode=1 --suppressions=tests/valgrind.supp $(TEST_BIN) --jobs 1

bench: deps
	@$(MAKE) --no-print-directory _bench

# ---------------------------------------------------------------- install
install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 include/libprofile.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libprofile.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libprofile.so
	install -m 0644 $(PCFILE) $(DESTDIR)$(PKGCONFIGDIR)/
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null 2>&1; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/libprofile.h $(DESTDIR)$(LIBDIR)/libprofile.a \
	  $(DESTDIR)$(LIBDIR)/libprofile.so* $(DESTDIR)$(PKGCONFIGDIR)/libprofile.pc

clean:
	rm -rf build build-asan build-fuzz build-tsan demo-db

# Header dependencies written by the compiler (none before the first build).
-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d)

-include bindings/python/Makefile.inc
-include tests/bench/Makefile.inc
-include tests/fuzz/Makefile.inc
-include tests/threads/Makefile.inc
-include tests/oom/Makefile.inc
-include tests/crash/Makefile.inc
-include tests/stress/Makefile.inc
-include tests/corrupt/Makefile.inc
include libprofile/sync/sync.mk
