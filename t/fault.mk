# t/fault.mk: fault harness and security tests (through the real stack).
# Every program starts its own throwaway PostgreSQL cluster (t/lib/pgctl, so that it can stop
# and start it), leadbookd and nginx (t/lib/stack), on loopback only; run under t/lib/with-pg
# like the rest of make check. t/fault/fenv.c is their shared support.
FAULT_SUPPORT = t/fault/fenv.c t/fault/fenv.h $(E2E_SUPPORT)
FAULT_CFLAGS = $(E2E_CFLAGS) -I$(top_srcdir)/t/fault -pthread
FAULT_LDADD = $(UNIT_LDADD) -lpthread

FAULT_TESTS = t/security/check_log_path t/security/check_security t/security/check_nginx_logs \
	t/security/check_ratelimit t/fault/check_fault_harness t/fault/check_pg_restart \
	t/fault/check_pg_restart_idle t/fault/check_idem_kill t/fault/check_deadlines
# No expected failures: the two bugs these tests found (idle connection after a PostgreSQL
# restart; tokens in nginx's access log) are fixed.

if HAVE_CHECK
check_PROGRAMS += $(FAULT_TESTS)
TESTS += $(FAULT_TESTS)
endif

t_fault_check_fault_harness_SOURCES = t/fault/check_fault_harness.c $(FAULT_SUPPORT)
t_fault_check_fault_harness_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_fault_harness_LDADD = $(FAULT_LDADD)
t_fault_check_pg_restart_SOURCES = t/fault/check_pg_restart.c $(FAULT_SUPPORT)
t_fault_check_pg_restart_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_pg_restart_LDADD = $(FAULT_LDADD)
t_fault_check_pg_restart_idle_SOURCES = t/fault/check_pg_restart.c $(FAULT_SUPPORT)
t_fault_check_pg_restart_idle_CFLAGS = $(FAULT_CFLAGS) -DLB_IDLE_RESTART
t_fault_check_pg_restart_idle_LDADD = $(FAULT_LDADD)
t_fault_check_idem_kill_SOURCES = t/fault/check_idem_kill.c $(FAULT_SUPPORT)
t_fault_check_idem_kill_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_idem_kill_LDADD = $(FAULT_LDADD)
t_fault_check_deadlines_SOURCES = t/fault/check_deadlines.c $(FAULT_SUPPORT)
t_fault_check_deadlines_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_deadlines_LDADD = $(FAULT_LDADD)
t_security_check_log_path_SOURCES = t/security/check_log_path.c
t_security_check_log_path_CFLAGS = $(UNIT_CFLAGS)
t_security_check_log_path_LDADD = $(UNIT_LDADD)
t_security_check_security_SOURCES = t/security/check_security.c $(FAULT_SUPPORT)
t_security_check_security_CFLAGS = $(FAULT_CFLAGS)
t_security_check_security_LDADD = $(FAULT_LDADD)
t_security_check_nginx_logs_SOURCES = t/security/check_security.c $(FAULT_SUPPORT)
t_security_check_nginx_logs_CFLAGS = $(FAULT_CFLAGS) -DLB_NGINX_LOGS
t_security_check_nginx_logs_LDADD = $(FAULT_LDADD)
t_security_check_ratelimit_SOURCES = t/security/check_security.c $(FAULT_SUPPORT)
t_security_check_ratelimit_CFLAGS = $(FAULT_CFLAGS) -DLB_RATELIMIT
t_security_check_ratelimit_LDADD = $(FAULT_LDADD)

# Stopping under load: a TERM to the whole process group (20 rounds), requests queued on a
# socket leadbookd owns (each answered, none reset), and on an inherited one (left queued).
if HAVE_CHECK
check_PROGRAMS += t/fault/check_stop
TESTS += t/fault/check_stop
endif
t_fault_check_stop_SOURCES = t/fault/check_stop.c $(E2E_SUPPORT)
t_fault_check_stop_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_stop_LDADD = $(FAULT_LDADD)

# Webhooks under faults (issue 18): a write load, the deliverer killed (SIGKILL) mid-delivery,
# rolled-back writes, PostgreSQL restarted; every committed change received, none rolled back.
if HAVE_CHECK
check_PROGRAMS += t/fault/check_webhooks_fault
TESTS += t/fault/check_webhooks_fault
endif
t_fault_check_webhooks_fault_SOURCES = t/fault/check_webhooks_fault.c t/e2e/whrx.c t/e2e/whrx.h \
	$(FAULT_SUPPORT)
t_fault_check_webhooks_fault_CFLAGS = $(FAULT_CFLAGS) -I$(top_srcdir)/t/e2e
t_fault_check_webhooks_fault_LDADD = $(FAULT_LDADD)

# Overload and faults (issue 13): a reload to an unreachable database (the old pool serves), and
# writes that would finish after their client gave up (a frozen PostgreSQL, a row lock): rolled
# back, never committed after a 5xx.
if HAVE_CHECK
check_PROGRAMS += t/fault/check_reload_db
TESTS += t/fault/check_reload_db
endif
t_fault_check_reload_db_SOURCES = t/fault/check_reload_db.c $(FAULT_SUPPORT)
t_fault_check_reload_db_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_reload_db_LDADD = $(FAULT_LDADD)

# The issue-13 load scenarios at size: a locked booking with 20 and 40 clients (another
# tenant's worst latency), bursts of 400 concurrent POSTs and wrk -c150 (no 502), and one
# address holding 2,000 idle connections (a normal client loses nothing).
if HAVE_CHECK
check_PROGRAMS += t/fault/check_overload
TESTS += t/fault/check_overload
endif
t_fault_check_overload_SOURCES = t/fault/check_overload.c $(FAULT_SUPPORT)
t_fault_check_overload_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_overload_LDADD = $(FAULT_LDADD)
