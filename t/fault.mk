# t/fault.mk: fault harness and security tests (through the real stack).
# Every program starts its own throwaway PostgreSQL cluster (t/lib/pgctl, so that it can stop
# and start it), leadbookd and nginx (t/lib/stack), on loopback only; run under t/lib/with-pg
# like the rest of make check. t/fault/fenv.c is their shared support.
FAULT_SUPPORT = t/fault/fenv.c t/fault/fenv.h $(E2E_SUPPORT)
FAULT_CFLAGS = $(E2E_CFLAGS) -pthread
FAULT_LDADD = $(UNIT_LDADD) -lpthread

FAULT_TESTS = t/fault/check_fault_harness

if HAVE_CHECK
check_PROGRAMS += $(FAULT_TESTS)
TESTS += $(FAULT_TESTS)
endif

t_fault_check_fault_harness_SOURCES = t/fault/check_fault_harness.c $(FAULT_SUPPORT)
t_fault_check_fault_harness_CFLAGS = $(FAULT_CFLAGS)
t_fault_check_fault_harness_LDADD = $(FAULT_LDADD)
