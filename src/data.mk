# src/data.mk: the database half: connection layer, store, SHA-256, migrations, leadbookctl,
# and the store tests (Check, against a real throwaway PostgreSQL: run under t/lib/with-pg).
libleadbook_a_SOURCES += src/db.c src/db.h src/digest.c src/digest.h \
	src/store/util.c src/store/util.h src/store/sqljson.h src/store/sqlvisible.h src/store/actor.h \
	src/store/catalog.c \
	src/store/leadjson.c src/store/leadjson.h \
	src/store/idempotency.c src/store/idempotency.h src/store/sqlidem.h src/store/sqlcount.h \
	src/store/sqloutbox.h src/store/outbox_hint.c src/store/outbox_hint.h \
	src/store/tenants.c src/store/tenants.h src/store/keys.c src/store/keys.h \
	src/store/agents.c src/store/agents.h src/store/leads.c src/store/leads.h \
	src/store/bookings.c src/store/bookings.h src/store/booking_changes.c \
	src/store/booking_changes.h src/store/health.c src/store/health.h
libleadbook_a_SOURCES += src/store/webhooks.c src/store/webhooks.h
# Beyond one database server (doc/scaling.md): the read router and its lag measurement.
libleadbook_a_SOURCES += src/db_read.c src/db_read.h src/store/replica.c src/store/replica.h

sbin_PROGRAMS += leadbookctl
leadbookctl_SOURCES = src/leadbookctl.c
leadbookctl_LDADD = $(LB_LIBS)

sqldir = $(pkgdatadir)/sql
dist_sql_DATA = sql/001_init.sql sql/002_stats_counters.sql sql/003_frontend.sql \
	sql/004_lifecycle.sql sql/005_webhooks.sql sql/006_write_path.sql sql/007_agent_delete.sql \
	sql/008_webhook_notify.sql sql/009_trigger_marks.sql

EXTRA_DIST += doc/schema.md doc/frontend.md

if HAVE_CHECK
LB_STORE_TESTS = t/store/check_sha256 t/store/check_db t/store/check_schema \
	t/store/check_store t/store/check_leads t/store/check_stats
check_PROGRAMS += $(LB_STORE_TESTS)
TESTS += $(LB_STORE_TESTS)
endif

LB_PGTEST = t/lib/pgtest.c t/lib/pgtest.h
t_store_check_sha256_SOURCES = t/store/check_sha256.c
t_store_check_sha256_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_sha256_LDADD = $(LB_LIBS) $(CHECK_LIBS)
t_store_check_db_SOURCES = t/store/check_db.c $(LB_PGTEST)
t_store_check_db_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_db_LDADD = $(LB_LIBS) $(CHECK_LIBS)
t_store_check_schema_SOURCES = t/store/check_schema.c $(LB_PGTEST)
t_store_check_schema_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_schema_LDADD = $(LB_LIBS) $(CHECK_LIBS)
t_store_check_store_SOURCES = t/store/check_store.c $(LB_PGTEST)
t_store_check_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_store_LDADD = $(LB_LIBS) $(CHECK_LIBS)
t_store_check_leads_SOURCES = t/store/check_leads.c $(LB_PGTEST)
t_store_check_leads_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_leads_LDADD = $(LB_LIBS) $(CHECK_LIBS)
t_store_check_stats_SOURCES = t/store/check_stats.c $(LB_PGTEST)
t_store_check_stats_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_stats_LDADD = $(LB_LIBS) $(CHECK_LIBS)
# db_pool_mode, db_read and the lag measurement without a standby (t/scale/replica has one).
if HAVE_CHECK
check_PROGRAMS += t/store/check_db_read
TESTS += t/store/check_db_read
endif
t_store_check_db_read_SOURCES = t/store/check_db_read.c $(LB_PGTEST)
t_store_check_db_read_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_store_check_db_read_LDADD = $(LB_LIBS) $(CHECK_LIBS)
libleadbook_a_SOURCES += src/store/metrics.c src/store/metrics.h
