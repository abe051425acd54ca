# t/fuzz.mk: libFuzzer targets (./configure --enable-fuzzers CC=clang; then `make fuzz-targets`,
# or t/fuzz/run [SECONDS] which does it all in build-fuzz/).
#
# The targets do not link libleadbook.a: they link t/fuzz/libfuzzcore.a, the same non-store
# sources compiled with coverage instrumentation (-fsanitize=fuzzer-no-link) and ASan + UBSan,
# plus t/fuzz/store_stub.c, which implements src/db.h and src/store/*.h. So the real store and
# libpq stay out of the fuzz binaries by construction. A new source that the handlers need must
# be added to FUZZ_CORE_SRC (the whole-request target then fails to link until it is).
if FUZZ
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_COMPILE_FLAGS = $(WARN_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) -g -O1 -fsanitize=fuzzer-no-link \
	$(FUZZ_SAN)
FUZZ_LINK_FLAGS = -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_LINK_LIBS = t/fuzz/libfuzzcore.a $(JSONC_LIBS) $(CRYPTO_LIBS)

FUZZ_CORE_SRC = src/log.c src/config.c src/buf.c src/arena.c src/http.c src/router.c \
	src/app.c src/auth.c src/digest.c src/validate.c src/validate_time.c \
	src/validate_cursor.c src/jsonx.c src/jsonx_dto.c src/api/routes.c src/api/common.c \
	src/api/health.c src/api/leads.c src/api/bookings.c src/api/agents.c src/api/tenants.c src/api/idempotency.c src/api/booking_changes.c \
	src/auth_jwt.c src/base64url.c
FUZZ_CORE_SRC += src/net_check.c src/jsonx_webhooks.c src/api/webhooks.c
FUZZ_CORE_SRC += src/metrics.c src/api/metrics.c

noinst_LIBRARIES += t/fuzz/libfuzzcore.a
t_fuzz_libfuzzcore_a_SOURCES = $(FUZZ_CORE_SRC) t/fuzz/fuzz_common.c t/fuzz/fuzz_common.h \
	t/fuzz/store_stub.c t/fuzz/store_stub.h
t_fuzz_libfuzzcore_a_CFLAGS = $(FUZZ_COMPILE_FLAGS)

FUZZ_TARGETS = t/fuzz/fuzz_query t/fuzz/fuzz_params t/fuzz/fuzz_json t/fuzz/fuzz_time \
	t/fuzz/fuzz_email t/fuzz/fuzz_utf8 t/fuzz/fuzz_bearer t/fuzz/fuzz_cursor \
	t/fuzz/fuzz_scalars t/fuzz/fuzz_request t/fuzz/fuzz_jwt
FUZZ_TARGETS += t/fuzz/fuzz_url
noinst_PROGRAMS += $(FUZZ_TARGETS)

t_fuzz_fuzz_query_SOURCES = t/fuzz/fuzz_query.c
t_fuzz_fuzz_query_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_query_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_query_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_params_SOURCES = t/fuzz/fuzz_params.c
t_fuzz_fuzz_params_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_params_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_params_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_json_SOURCES = t/fuzz/fuzz_json.c
t_fuzz_fuzz_json_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_json_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_json_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_time_SOURCES = t/fuzz/fuzz_time.c
t_fuzz_fuzz_time_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_time_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_time_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_email_SOURCES = t/fuzz/fuzz_email.c
t_fuzz_fuzz_email_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_email_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_email_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_utf8_SOURCES = t/fuzz/fuzz_utf8.c
t_fuzz_fuzz_utf8_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_utf8_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_utf8_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_bearer_SOURCES = t/fuzz/fuzz_bearer.c
t_fuzz_fuzz_bearer_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_bearer_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_bearer_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_cursor_SOURCES = t/fuzz/fuzz_cursor.c
t_fuzz_fuzz_cursor_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_cursor_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_cursor_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_scalars_SOURCES = t/fuzz/fuzz_scalars.c
t_fuzz_fuzz_scalars_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_scalars_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_scalars_LDADD = $(FUZZ_LINK_LIBS)
t_fuzz_fuzz_request_SOURCES = t/fuzz/fuzz_request.c
t_fuzz_fuzz_request_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_request_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_request_LDADD = $(FUZZ_LINK_LIBS)
# GET /metrics answers text: the whole-request target checks it with the tests' format reader
t_fuzz_fuzz_request_SOURCES += t/lib/promtext.c t/lib/promtext.h
t_fuzz_fuzz_request_CFLAGS += -I$(top_srcdir)/t/lib
t_fuzz_fuzz_jwt_SOURCES = t/fuzz/fuzz_jwt.c t/lib/jwtsign.c t/lib/jwtsign.h
t_fuzz_fuzz_jwt_CFLAGS = $(FUZZ_COMPILE_FLAGS) -I$(top_srcdir)/t/lib
t_fuzz_fuzz_jwt_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_jwt_LDADD = $(FUZZ_LINK_LIBS)

t_fuzz_fuzz_url_SOURCES = t/fuzz/fuzz_url.c
t_fuzz_fuzz_url_CFLAGS = $(FUZZ_COMPILE_FLAGS)
t_fuzz_fuzz_url_LDFLAGS = $(FUZZ_LINK_FLAGS)
t_fuzz_fuzz_url_LDADD = $(FUZZ_LINK_LIBS)

fuzz-targets: $(FUZZ_TARGETS)
else
fuzz-targets:
	@echo "fuzz-targets: configure with --enable-fuzzers CC=clang" >&2; exit 1
endif
.PHONY: fuzz-targets

EXTRA_DIST += t/fuzz/run t/fuzz/README.md t/fuzz/corpus t/fuzz/regress t/fuzz/http.dict \
	t/fuzz/json.dict t/fuzz/request.dict t/fuzz/time.dict
# t/leaks/run: leadbookd under valgrind for 100,000 requests through nginx (no build rules).
EXTRA_DIST += t/leaks/run t/leaks/load.lua t/leaks/leadbookd.supp
# t/scale/hosts: three application hosts (network namespaces) behind nginx, one killed under
# load (no build rules; scripts/test-all runs it).
EXTRA_DIST += t/scale/hosts t/scale/hosts-load.py
