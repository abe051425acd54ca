# t/e2e.mk: end-to-end API tests (real nginx, leadbookd, PostgreSQL) and the OpenAPI check.
# Each program gets a fresh migrated database (t/lib/pgtest) and its own stack (t/lib/stack);
# run them under t/lib/with-pg (make check does when started as ../t/lib/with-pg make check).
E2E_API_SOURCES = t/e2e/e2e.c t/e2e/e2e.h t/e2e/e2e_user.c t/lib/jwtsign.c t/lib/jwtsign.h \
	t/lib/pgtest.c t/lib/pgtest.h $(E2E_SUPPORT)
E2E_API_TESTS = t/e2e/check_api_happy t/e2e/check_api_status t/e2e/check_api_isolation \
	t/e2e/check_api_badinput t/e2e/check_api_pages t/e2e/check_api_defects t/e2e/check_openapi \
	t/e2e/check_api_frontend t/e2e/check_api_idempotency t/e2e/check_api_lifecycle
E2E_API_TESTS += t/e2e/check_api_webhooks t/e2e/check_agent_delete

if HAVE_CHECK
check_PROGRAMS += $(E2E_API_TESTS)
TESTS += $(E2E_API_TESTS)
endif

t_e2e_check_api_happy_SOURCES = t/e2e/check_api_happy.c $(E2E_API_SOURCES)
t_e2e_check_api_happy_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_happy_LDADD = $(UNIT_LDADD)
t_e2e_check_api_status_SOURCES = t/e2e/check_api_status.c $(E2E_API_SOURCES)
t_e2e_check_api_status_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_status_LDADD = $(UNIT_LDADD)
t_e2e_check_api_isolation_SOURCES = t/e2e/check_api_isolation.c $(E2E_API_SOURCES)
t_e2e_check_api_isolation_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_isolation_LDADD = $(UNIT_LDADD)
t_e2e_check_api_badinput_SOURCES = t/e2e/check_api_badinput.c $(E2E_API_SOURCES)
t_e2e_check_api_badinput_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_badinput_LDADD = $(UNIT_LDADD)
t_e2e_check_api_pages_SOURCES = t/e2e/check_api_pages.c $(E2E_API_SOURCES)
t_e2e_check_api_pages_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_pages_LDADD = $(UNIT_LDADD)
t_e2e_check_api_frontend_SOURCES = t/e2e/check_api_frontend.c $(E2E_API_SOURCES)
t_e2e_check_api_frontend_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_frontend_LDADD = $(UNIT_LDADD)
t_e2e_check_api_idempotency_SOURCES = t/e2e/check_api_idempotency.c $(E2E_API_SOURCES)
t_e2e_check_api_idempotency_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_idempotency_LDADD = $(UNIT_LDADD)
t_e2e_check_agent_delete_SOURCES = t/e2e/check_agent_delete.c $(E2E_API_SOURCES)
t_e2e_check_agent_delete_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_agent_delete_LDADD = $(UNIT_LDADD)
t_e2e_check_api_lifecycle_SOURCES = t/e2e/check_api_lifecycle.c $(E2E_API_SOURCES)
t_e2e_check_api_lifecycle_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_lifecycle_LDADD = $(UNIT_LDADD)
t_e2e_check_api_webhooks_SOURCES = t/e2e/check_api_webhooks.c \
	t/e2e/check_api_webhooks_more.c $(E2E_API_SOURCES)
t_e2e_check_api_webhooks_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_webhooks_LDADD = $(UNIT_LDADD)
t_e2e_check_api_defects_SOURCES = t/e2e/check_api_defects.c $(E2E_API_SOURCES)
t_e2e_check_api_defects_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_defects_LDADD = $(UNIT_LDADD)
# doc/openapi.yaml is written in YAML's JSON-compatible flow style (after a block of "#"
# comment lines), so this C program reads it with json-c: no YAML library needed.
t_e2e_check_openapi_SOURCES = t/e2e/check_openapi.c $(E2E_API_SOURCES)
t_e2e_check_openapi_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_openapi_LDADD = $(UNIT_LDADD)

EXTRA_DIST += doc/openapi.yaml

# The nginx site for the web frontend: per-visitor rate limit behind a trusted frontend server
# (realip), exact matching of the public meeting path, big Authorization headers, the probes.
if HAVE_CHECK
check_PROGRAMS += t/e2e/check_api_site
TESTS += t/e2e/check_api_site
endif
t_e2e_check_api_site_SOURCES = t/e2e/check_api_site.c $(E2E_API_SOURCES)
t_e2e_check_api_site_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_api_site_LDADD = $(UNIT_LDADD)

# The webhook deliverer (leadbookctl webhooks run): a receiver in the test (t/e2e/whrx.c),
# endpoints inserted with SQL, the real leadbookctl run --once and as a service; its claim and
# record statements and its HTTP client also called directly (batches, connection reuse).
if HAVE_CHECK
check_PROGRAMS += t/e2e/check_webhooks_deliver
TESTS += t/e2e/check_webhooks_deliver
endif
t_e2e_check_webhooks_deliver_SOURCES = t/e2e/check_webhooks_deliver.c t/e2e/whrx.c \
	t/e2e/whrx.h t/lib/pgtest.c t/lib/pgtest.h src/webhook_http.c src/webhook_http.h \
	src/store/webhook_deliveries.c src/store/webhook_deliveries.h
t_e2e_check_webhooks_deliver_CFLAGS = $(E2E_CFLAGS) $(CURL_CFLAGS) -pthread
t_e2e_check_webhooks_deliver_LDADD = $(UNIT_LDADD) $(CURL_LIBS) -lpthread

# GET /metrics through nginx and the 4-worker pool: exact pool totals whichever worker answers,
# counters that survive a killed worker, no raw ids, the format, local addresses only.
if HAVE_CHECK
check_PROGRAMS += t/e2e/check_metrics
TESTS += t/e2e/check_metrics
endif
t_e2e_check_metrics_SOURCES = t/e2e/check_metrics.c t/lib/promtext.c t/lib/promtext.h \
	$(E2E_API_SOURCES)
t_e2e_check_metrics_CFLAGS = $(E2E_CFLAGS)
t_e2e_check_metrics_LDADD = $(UNIT_LDADD)
