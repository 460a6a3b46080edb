# mod_sslorders: build, run, test, bench, fuzz, install.
#
#   make run         build and serve on http://127.0.0.1:8080/ (SQLite, demo team), foreground
#   make start/stop  the same in the background (PORT=, VAR=)
#   make test        install what is missing, build, unit + integration tests (sqlite3, pgsql),
#                    then the portal in a real browser (test-browser)
#   make test-browser the customer portal driven in Debian's Chromium (playwright-core)
#   make test-cluster three servers, one PostgreSQL with a standby, a balancer, chaos (tests/cluster)
#   make asan-test   the integration suite against an ASan/UBSan build of the module
#   make bench       throughput and latency ratios against httpd serving static files
#   make fuzz        build the libFuzzer harnesses and run each for FUZZ_SECONDS
#   make install     install the module, sslordersctl and the Debian mods-available files
#   make deb         build libapache2-mod-sslorders_<version>_<arch>.deb (debhelper, dh-apache2,
#                    lintian); make test-deb installs it into the system httpd and purges it
#
# The flags for the module come from apxs; the module, the CLI, the unit tests and the
# fuzzers all link one static core library (src/api, src/core, src/store).
#
# First run on a bare machine: apxs and pkg-config only exist once `deps` installed
# apache2-dev and pkg-config, but make reads the flags below when it parses this file.
# So every target that installs packages first (run, start, bench, fuzz, test,
# test-browser, asan-test) does the rest in a second `$(MAKE)`, which parses this file
# again with the tools in place. A build without them stops with a clear message
# (check-flags) instead of a compiler error about httpd.h.

APXS      ?= apxs
CC        ?= gcc
PORT      ?= 8080
VAR       ?= $(CURDIR)/var
FUZZ_SECONDS ?= 30

# Asked only where the tool is installed (command -v is the shell's, not a tool): on a bare
# machine these stay empty and the install-first targets ask again after deps.
HAVE_APXS   := $(shell command -v $(APXS) 2>/dev/null)
HAVE_PKGCONF := $(shell command -v pkg-config 2>/dev/null)
APXS_CFLAGS := $(if $(HAVE_APXS),$(shell $(APXS) -q CFLAGS 2>/dev/null))
APXS_INC    := $(if $(HAVE_APXS),$(shell $(APXS) -q INCLUDEDIR 2>/dev/null))
LIBEXECDIR  := $(if $(HAVE_APXS),$(shell $(APXS) -q LIBEXECDIR 2>/dev/null))
APR_CFLAGS  := $(if $(HAVE_PKGCONF),$(shell pkg-config --cflags apr-1 apr-util-1 2>/dev/null))
APR_LIBS    := $(if $(HAVE_PKGCONF),$(shell pkg-config --libs apr-1 apr-util-1 2>/dev/null))
# libpq: PostgreSQL's pipeline on the connection apr_dbd holds (src/store/so_db_pg.c)
PQ_CFLAGS   := $(if $(HAVE_PKGCONF),$(shell pkg-config --cflags libpq 2>/dev/null))
DEP_LIBS    := -ljansson -lssl -lcrypto -lcurl -lzip -lpsl -lresolv -lunbound -lqrencode -lpq
TEST_CFLAGS := $(if $(HAVE_PKGCONF),$(shell pkg-config --cflags libxml-2.0 2>/dev/null))
TEST_LIBS   := $(if $(HAVE_PKGCONF),$(shell pkg-config --libs check libxml-2.0 2>/dev/null))

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-format-nonliteral
BASE_CFLAGS := -std=gnu11 -g -fPIC -D_GNU_SOURCE $(WARN) $(APR_CFLAGS) $(PQ_CFLAGS)
OPT      ?= -O2
SAN      ?=
BUILD    ?= build

CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(SAN)

CORE_SRC := $(wildcard src/core/*.c) $(wildcard src/store/*.c) $(wildcard src/svc/*.c) $(wildcard src/api/*.c) $(wildcard src/acme/*.c)
HTTPD_SRC := mod_sslorders.c $(wildcard src/httpd/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
HEADERS  := $(wildcard src/*/*.h)

CORE_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRC))
HTTPD_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(HTTPD_SRC))
CLI_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
UNIT_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRC))

LIBCORE := $(BUILD)/libsocore.a
MODULE  := $(BUILD)/mod_sslorders.so
CLI     := $(BUILD)/sslordersctl
UNIT    := $(BUILD)/so_unit

PYTEST := /usr/bin/python3 -m pytest

.PHONY: deb test-deb all build deps deps-test deps-browser unit test test-integration test-sqlite test-pgsql test-browser \
        test-cluster asan asan-test run start stop bench fuzz fuzz-build fuzz-replay install clean check-flags check-layers

all: build

build: check-layers $(MODULE) $(CLI)

# The layering rule, checked on the text: below src/api (src/svc, src/core, src/store) no
# file names the HTTP request (so_req_t) or includes an httpd header.
LAYER_DIRS := src/svc src/core src/store
HTTPD_HDRS := httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+|unixd|scoreboard
check-layers:
	@bad=$$(grep -nE 'so_req_t|^[[:space:]]*\#[[:space:]]*include[[:space:]]*[<"]($(HTTPD_HDRS))\.h[>"]' \
	        $(foreach d,$(LAYER_DIRS),$(wildcard $(d)/*.c $(d)/*.h))); \
	 if [ -n "$$bad" ]; then \
	   echo "layering: src/svc, src/core and src/store know no HTTP request nor httpd:" >&2; \
	   echo "$$bad" >&2; exit 1; fi

# apxs (apache2-dev) and pkg-config answered when this file was parsed
check-flags:
	@if [ -z "$(APXS_INC)" ] || [ -z "$(APR_CFLAGS)" ] || [ -z "$(PQ_CFLAGS)" ]; then \
	  echo "apxs or pkg-config did not answer (apache2-dev, libapr1-dev, libpq-dev missing?):" \
	       "run 'make deps' first (make run/start/test do it for you)" >&2; exit 1; fi

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

deps-browser:
	@scripts/deps.sh browser

# src/core, src/store, src/svc, src/api never see httpd's headers (the layering rule)
$(BUILD)/obj/src/core/%.o $(BUILD)/obj/src/store/%.o $(BUILD)/obj/src/svc/%.o $(BUILD)/obj/src/api/%.o $(BUILD)/obj/src/cli/%.o $(BUILD)/obj/src/acme/%.o \
$(BUILD)/obj/tests/%.o: CFLAGS_INC :=
$(BUILD)/obj/%.o: CFLAGS_INC ?= -I$(APXS_INC)
# the unit tests parse the seal's SVG and HTML back with libxml2
$(BUILD)/obj/tests/unit/%.o: CFLAGS_INC := $(TEST_CFLAGS)

$(BUILD)/obj/%.o: %.c $(HEADERS) | check-flags
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) $(CFLAGS_INC) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(MODULE): $(HTTPD_OBJ) $(LIBCORE)
	$(CC) -shared $(SAN) $(LDFLAGS_EXTRA) -o $@ $(HTTPD_OBJ) $(LIBCORE) $(DEP_LIBS) -lsqlite3 \
	    -Wl,--exclude-libs,ALL -Wl,-z,relro -Wl,-z,now

$(CLI): $(CLI_OBJ) $(LIBCORE)
	$(CC) $(SAN) $(LDFLAGS_EXTRA) -o $@ $(CLI_OBJ) $(LIBCORE) $(DEP_LIBS) $(APR_LIBS)

$(UNIT): $(UNIT_OBJ) $(LIBCORE)
	$(CC) $(SAN) -o $@ $(UNIT_OBJ) $(LIBCORE) $(DEP_LIBS) $(APR_LIBS) $(TEST_LIBS)

unit: $(UNIT)
	$(UNIT)

# leaf certificates signed per second through so_ca_issue (EC P-256 and RSA 2048 intermediates)
$(BUILD)/ca_speed: tests/bench/ca_speed.c $(LIBCORE)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/ca_speed.c $(LIBCORE) $(DEP_LIBS) $(APR_LIBS)

# The integration suite runs against a real httpd loading the module just built,
# once on SQLite and once on a PostgreSQL server the harness starts itself.
# deps-browser: the test packages, and Node.js with the npm packages (test_webhooks.py
# verifies signatures with standardwebhooks), so each target also works on its own
test-sqlite: deps-browser build
	SO_DB=sqlite3 SO_BUILD=$(CURDIR)/$(BUILD) $(PYTEST) -q -x tests/integration $(PYTEST_ARGS)

test-pgsql: deps-browser build
	SO_DB=pgsql SO_BUILD=$(CURDIR)/$(BUILD) $(PYTEST) -q -x tests/integration $(PYTEST_ARGS)

test-integration: test-sqlite test-pgsql

# three servers on a PostgreSQL primary with a synchronous standby behind mod_proxy_balancer,
# under load while children, a server and the database are killed and the standby promoted
test-cluster: build
	SO_BUILD=$(CURDIR)/$(BUILD) /usr/bin/python3 tests/cluster/cluster_test.py

test: deps-browser
	$(MAKE) build unit
	$(MAKE) fuzz-replay
	$(MAKE) test-integration
	$(MAKE) test-deb
	$(MAKE) test-cluster
	$(MAKE) test-browser

# The customer portal in a real browser: Debian's Chromium driven by playwright-core
# (tests/browser, Node's test runner) against a server started with scripts/devserver.sh
# and real data; screenshots in tests/browser/screenshots/.
test-browser: deps-browser
	$(MAKE) build
	cd tests/browser && SO_BUILD=$(CURDIR)/$(BUILD) node --test portal.test.mjs

# AddressSanitizer + UndefinedBehaviorSanitizer build of the module, loaded into the
# stock httpd with libasan preloaded (tests/integration reads SO_ASAN).
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" build

asan-test: deps-browser
	$(MAKE) asan
	SO_ASAN=1 SO_DB=sqlite3 SO_BUILD=$(CURDIR)/build-asan $(PYTEST) -q -x tests/integration $(PYTEST_ARGS)
	SO_ASAN=1 SO_DB=pgsql SO_BUILD=$(CURDIR)/build-asan $(PYTEST) -q -x tests/integration $(PYTEST_ARGS)

run: deps
	@$(MAKE) --no-print-directory build
	@PORT=$(PORT) VAR=$(VAR) BUILD=$(CURDIR)/$(BUILD) scripts/devserver.sh run

start: deps
	@$(MAKE) --no-print-directory build
	@PORT=$(PORT) VAR=$(VAR) BUILD=$(CURDIR)/$(BUILD) scripts/devserver.sh start

stop:
	@PORT=$(PORT) VAR=$(VAR) BUILD=$(CURDIR)/$(BUILD) scripts/devserver.sh stop

bench: deps-test
	$(MAKE) build $(BUILD)/ca_speed
	SO_BUILD=$(CURDIR)/$(BUILD) BUILD=$(CURDIR)/$(BUILD) /usr/bin/python3 tests/bench/bench.py $(BENCH_ARGS)

# libFuzzer harnesses (clang); fuzz-replay runs the seed corpora without clang's
# fuzzer runtime, as part of `make test`.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz: deps-test
	$(MAKE) fuzz-build

fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" build-fuzz/libsocore.a
	@mkdir -p build-fuzz/bin
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang $(BASE_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -I$(APXS_INC) $$f build-fuzz/libsocore.a \
	     $(DEP_LIBS) $(APR_LIBS) -o build-fuzz/bin/$$n || exit 1; \
	  mkdir -p build-fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  build-fuzz/bin/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	     build-fuzz/corpus/$$n tests/fuzz/corpus/$$n >build-fuzz/$$n.log 2>&1 \
	     || { tail -40 build-fuzz/$$n.log; exit 1; }; \
	  grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" build-fuzz/$$n.log | tail -1; \
	done

fuzz-replay: $(LIBCORE)
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  $(CC) $(CFLAGS_ALL) -I$(APXS_INC) tests/fuzz/replay.c $$f $(LIBCORE) $(DEP_LIBS) $(APR_LIBS) \
	     -o $(BUILD)/fuzz/$$n || exit 1; \
	  $(BUILD)/fuzz/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

install: build
	$(APXS) -i -n sslorders $(MODULE)
	install -m 0755 $(CLI) /usr/local/bin/sslordersctl
	@if [ -d /etc/apache2/mods-available ]; then \
	  install -m 0644 conf/sslorders.load /etc/apache2/mods-available/sslorders.load; \
	  install -m 0644 conf/sslorders.conf /etc/apache2/mods-available/sslorders.conf; \
	  install -d -o www-data -g www-data -m 0750 /var/lib/sslorders; \
	  echo "now: a2enmod dbd sslorders && apachectl graceful"; \
	fi

# The Debian package (debian/): built from a clean copy of the tree, checked by lintian
# (errors fail); the test installs it into the system's apache2, enables it, gets an order
# through, purges it and checks that nothing is left.
deb: deps-test
	scripts/build-deb.sh $(CURDIR)/$(BUILD)/deb

test-deb: deb
	$(PYTEST) -q tests/deb

clean:
	rm -rf build build-asan build-fuzz
