# t/scale/replica.mk: the read-replica suite (t/scale/check_replica.c), built here but run only
# by t/scale/replica, which makes the standby it needs (in check_PROGRAMS, never in TESTS).
if HAVE_CHECK
check_PROGRAMS += t/scale/check_replica
endif
t_scale_check_replica_SOURCES = t/scale/check_replica.c $(E2E_API_SOURCES)
t_scale_check_replica_CFLAGS = $(E2E_CFLAGS) -I$(top_srcdir)/t/e2e
t_scale_check_replica_LDADD = $(UNIT_LDADD)
EXTRA_DIST += t/scale/replica t/scale/pgbouncer t/scale/pgbouncer-lib.sh t/scale/pgbouncer-bench
