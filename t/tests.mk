# t/tests.mk: unit tests of the foundation and the process / end-to-end tests.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes
UNIT_LDADD = $(LB_LIBS) $(CHECK_LIBS)

check_PROGRAMS += t/unit/check_router t/unit/check_http
t_unit_check_router_SOURCES = t/unit/check_router.c
t_unit_check_router_CFLAGS = $(UNIT_CFLAGS)
t_unit_check_router_LDADD = $(UNIT_LDADD)
t_unit_check_http_SOURCES = t/unit/check_http.c
t_unit_check_http_CFLAGS = $(UNIT_CFLAGS)
t_unit_check_http_LDADD = $(UNIT_LDADD)
TESTS += t/unit/check_router t/unit/check_http

# Sign-in tokens: the verifier's tests, with the test-side signer (t/lib/jwtsign.c), which
# t/lib/lb-token puts on the command line for the e2e tests, the benchmark and scripts.
check_PROGRAMS += t/unit/check_jwt
t_unit_check_jwt_SOURCES = t/unit/check_jwt.c t/lib/jwtsign.c t/lib/jwtsign.h
t_unit_check_jwt_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/t/lib
t_unit_check_jwt_LDADD = $(UNIT_LDADD)
TESTS += t/unit/check_jwt
noinst_PROGRAMS += t/lib/lb-token
t_lib_lb_token_SOURCES = t/lib/lb-token.c t/lib/jwtsign.c t/lib/jwtsign.h
t_lib_lb_token_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/t/lib
t_lib_lb_token_LDADD = libleadbook.a $(JSONC_LIBS) $(CRYPTO_LIBS)

# Test support shared by the end-to-end programs: a tiny HTTP client and the stack launcher.
E2E_SUPPORT = t/lib/httpc.c t/lib/httpc.h t/lib/stack.c t/lib/stack.h
E2E_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/t/lib

check_PROGRAMS += t/e2e/check_process
t_e2e_check_process_SOURCES = t/e2e/check_process.c $(E2E_SUPPORT)
t_e2e_check_process_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_process_LDADD = $(UNIT_LDADD)
TESTS += t/e2e/check_process
EXTRA_DIST += t/lib/pgctl t/lib/with-pg

# The webhook deliverer's pure parts: Standard Webhooks signatures, the retry schedule.
check_PROGRAMS += t/unit/check_webhook_sign
t_unit_check_webhook_sign_SOURCES = t/unit/check_webhook_sign.c src/webhook_sign.c \
	src/webhook_sign.h
t_unit_check_webhook_sign_CFLAGS = $(UNIT_CFLAGS)
t_unit_check_webhook_sign_LDADD = $(UNIT_LDADD)
TESTS += t/unit/check_webhook_sign

# The metrics scoreboard (src/metrics.c): indexes, rendering, pool totals across slots and forks.
check_PROGRAMS += t/unit/check_metrics
t_unit_check_metrics_SOURCES = t/unit/check_metrics.c t/lib/promtext.c t/lib/promtext.h
t_unit_check_metrics_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/t/lib
t_unit_check_metrics_LDADD = $(UNIT_LDADD)
TESTS += t/unit/check_metrics
