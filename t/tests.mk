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
