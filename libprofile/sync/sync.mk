# libprofile/sync/sync.mk — libprofile-sync (included by the top Makefile).
#
#   build/libprofile-sync.{a,so}, build/libprofile-sync.pc   (part of `lib`)
#   make _check-chain-short   tests/chain with a real nats-server (part of
#                             `make check`): test_jetstream, test_convergence,
#                             test_scene
#   make check-chain          the long run: five properties, 100,000 changes,
#                             partitions and server restarts (tests/chain/longrun.c)
#   make bench-chain          replication throughput, change-to-visible
#                             latency, backlog convergence (tests/bench/chain)
#
# The library uses only the core's public API (include/libprofile.h) and
# libnats; it links against build/libprofile.so.  The tests start their
# own nats-server on a free loopback port (tests/chain/natsd.c).

SYNC_PKGS     := libnats
SYNC_CFLAGS_PKG = $(shell $(PKG_CONFIG) --cflags $(SYNC_PKGS) 2>/dev/null)
SYNC_LIBS_PKG   = $(shell $(PKG_CONFIG) --libs $(SYNC_PKGS) 2>/dev/null)

SYNC_SRCS    := $(wildcard libprofile/sync/*.c)
SYNC_OBJS    := $(patsubst libprofile/sync/%.c,$(BUILD)/obj/sync/%.o,$(SYNC_SRCS))
# Public API only: no -Ilibprofile (the core's private headers).
SYNC_CFLAGS   = -std=c11 $(WARN) $(HARDEN) $(OPT) -fvisibility=hidden -D_GNU_SOURCE -pthread \
                -Iinclude -Ilibprofile/sync $(SAN) $(SYNC_CFLAGS_PKG) $(CFLAGS)

SYNC_STATIC  := $(BUILD)/libprofile-sync.a
SYNC_SONAME  := libprofile-sync.so.$(SOVERSION)
SYNC_SHARED  := $(BUILD)/libprofile-sync.so.$(VERSION)
SYNC_PCFILE  := $(BUILD)/libprofile-sync.pc

.PHONY: sync-lib install-sync uninstall-sync _check-chain-short check-chain _check-chain \
        bench-chain _bench-chain

lib: sync-lib
sync-lib: $(SYNC_STATIC) $(SYNC_SHARED) $(SYNC_PCFILE)

$(BUILD)/obj/sync:
	@mkdir -p $@

$(BUILD)/obj/sync/%.o: libprofile/sync/%.c | $(BUILD)/obj/sync
	$(CC) $(SYNC_CFLAGS) $(DEPFLAGS) -fPIC -c $< -o $@

$(SYNC_STATIC): $(SYNC_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SYNC_SHARED): $(SYNC_OBJS) $(SHARED)
	$(CC) -shared -Wl,-soname,$(SYNC_SONAME) -Wl,--no-undefined $(ALL_LDFLAGS) -o $@ $(SYNC_OBJS) \
	  -L$(BUILD) -lprofile $(SYNC_LIBS_PKG) -lpthread
	ln -sf libprofile-sync.so.$(VERSION) $(BUILD)/$(SYNC_SONAME)
	ln -sf $(SYNC_SONAME) $(BUILD)/libprofile-sync.so

$(SYNC_PCFILE): FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' \
	  'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: libprofile-sync' \
	  'Description: A hotel chain'"'"'s libprofile changes carried between properties over NATS JetStream' \
	  'Version: $(VERSION)' \
	  'Requires: libprofile' \
	  'Requires.private: $(SYNC_PKGS)' \
	  'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -lprofile-sync' \
	  'Libs.private: -lpthread' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

install: install-sync
install-sync: sync-lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 include/libprofile_sync.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(SYNC_STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(SYNC_SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libprofile-sync.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SYNC_SONAME)
	ln -sf $(SYNC_SONAME) $(DESTDIR)$(LIBDIR)/libprofile-sync.so
	install -m 0644 $(SYNC_PCFILE) $(DESTDIR)$(PKGCONFIGDIR)/

uninstall: uninstall-sync
uninstall-sync:
	rm -f $(DESTDIR)$(INCLUDEDIR)/libprofile_sync.h $(DESTDIR)$(LIBDIR)/libprofile-sync.a \
	  $(DESTDIR)$(LIBDIR)/libprofile-sync.so* $(DESTDIR)$(PKGCONFIGDIR)/libprofile-sync.pc

# ---------------------------------------------------------------- tests
# tests/chain: one Criterion binary over the real server; natsd.c and
# chain_util.c are shared with the long run and the benchmark.  Linked
# statically (one copy of the core, as in the main suite).
CHAIN_HELPER_SRCS := tests/chain/natsd.c tests/chain/chain_util.c
CHAIN_HELPER_HDRS := tests/chain/natsd.h tests/chain/chain_util.h
CHAIN_TEST_SRCS   := $(wildcard tests/chain/test_*.c)
CHAIN_TEST_BIN    := $(BUILD)/tests/test_chain
CHAIN_LONGRUN_BIN := $(BUILD)/tests/chain_longrun
CHAIN_BENCH_BIN   := $(BUILD)/bench/bench_chain
CHAIN_LINK = $(SYNC_STATIC) $(STATIC) $(PKG_LIBS) $(SYNC_LIBS_PKG) -lpthread -lm
CHAIN_CFLAGS = -std=c11 $(WARN) $(OPT) $(SAN) -D_GNU_SOURCE -pthread -Iinclude -Itests/chain \
               $(SYNC_CFLAGS_PKG) $(CFLAGS)

$(CHAIN_TEST_BIN): $(CHAIN_TEST_SRCS) $(CHAIN_HELPER_SRCS) $(CHAIN_HELPER_HDRS) $(SYNC_STATIC) $(STATIC) \
                   include/libprofile.h include/libprofile_sync.h
	@mkdir -p $(dir $@)
	$(CC) $(CHAIN_CFLAGS) $(TEST_CFLAGS_PKG) -o $@ $(CHAIN_TEST_SRCS) $(CHAIN_HELPER_SRCS) \
	  $(ALL_LDFLAGS) $(CHAIN_LINK) $(TEST_LIBS_PKG)

$(CHAIN_LONGRUN_BIN): tests/chain/longrun.c $(CHAIN_HELPER_SRCS) $(CHAIN_HELPER_HDRS) $(SYNC_STATIC) \
                      $(STATIC) include/libprofile.h include/libprofile_sync.h
	@mkdir -p $(dir $@)
	$(CC) $(CHAIN_CFLAGS) -o $@ tests/chain/longrun.c $(CHAIN_HELPER_SRCS) $(ALL_LDFLAGS) $(CHAIN_LINK)

$(CHAIN_BENCH_BIN): tests/bench/chain/bench_chain.c $(CHAIN_HELPER_SRCS) $(CHAIN_HELPER_HDRS) \
                    $(SYNC_STATIC) $(STATIC) include/libprofile.h include/libprofile_sync.h
	@mkdir -p $(dir $@)
	$(CC) $(CHAIN_CFLAGS) -o $@ tests/bench/chain/bench_chain.c $(CHAIN_HELPER_SRCS) \
	  $(ALL_LDFLAGS) $(CHAIN_LINK)

# Databases and the server's store go under $TMPDIR (/dev/shm when set so).
_check-chain-short: sync-lib $(CHAIN_TEST_BIN)
	$(CHAIN_TEST_BIN) --jobs 1

check-chain: deps
	@$(MAKE) --no-print-directory _check-chain

_check-chain: sync-lib $(CHAIN_LONGRUN_BIN)
	$(CHAIN_LONGRUN_BIN)

bench-chain: deps
	@$(MAKE) --no-print-directory _bench-chain

_bench-chain: sync-lib $(CHAIN_BENCH_BIN)
	$(CHAIN_BENCH_BIN)

-include $(SYNC_OBJS:.o=.d)
