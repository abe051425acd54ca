# src/valid.mk: input validation (pure parsers) and strict JSON bodies, with their unit tests.
libleadbook_a_SOURCES += src/validate.c src/validate_time.c src/validate_cursor.c src/validate.h \
	src/jsonx.c src/jsonx_dto.c src/jsonx.h
# webhook URLs: the parser and the address classes (the API and the deliverer), their bodies
libleadbook_a_SOURCES += src/net_check.c src/net_check.h src/jsonx_webhooks.c \
	src/jsonx_fields.h

if HAVE_CHECK
check_PROGRAMS += t/unit/check_validate t/unit/check_time t/unit/check_jsonx t/unit/check_jsonx_dto
TESTS += t/unit/check_validate t/unit/check_time t/unit/check_jsonx t/unit/check_jsonx_dto
endif

t_unit_check_validate_SOURCES = t/unit/check_validate.c
t_unit_check_validate_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_unit_check_validate_LDADD = $(LB_LIBS) $(CHECK_LIBS)

t_unit_check_time_SOURCES = t/unit/check_time.c
t_unit_check_time_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_unit_check_time_LDADD = $(LB_LIBS) $(CHECK_LIBS)

t_unit_check_jsonx_SOURCES = t/unit/check_jsonx.c t/unit/jsonx_support.c t/unit/jsonx_support.h
t_unit_check_jsonx_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_unit_check_jsonx_LDADD = $(LB_LIBS) $(CHECK_LIBS)

t_unit_check_jsonx_dto_SOURCES = t/unit/check_jsonx_dto.c t/unit/jsonx_support.c t/unit/jsonx_support.h
t_unit_check_jsonx_dto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_unit_check_jsonx_dto_LDADD = $(LB_LIBS) $(CHECK_LIBS)

if HAVE_CHECK
check_PROGRAMS += t/unit/check_net
TESTS += t/unit/check_net
endif
t_unit_check_net_SOURCES = t/unit/check_net.c
t_unit_check_net_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
t_unit_check_net_LDADD = $(LB_LIBS) $(CHECK_LIBS)
