# src/core.mk: the foundation (master, worker, request layer, router, config, log) and the
# handlers' routing table.
libleadbook_a_SOURCES += \
	src/log.c src/log.h src/config.c src/config.h src/buf.c src/buf.h src/status.h src/clock.h \
	src/arena.c src/arena.h src/http.c src/http.h src/router.c src/router.h \
	src/app.c src/app.h src/auth.c src/auth.h src/auth_jwt.c src/auth_jwt.h src/base64url.c src/base64url.h

sbin_PROGRAMS += leadbookd
leadbookd_SOURCES = src/leadbookd.c src/prefork.c src/prefork.h src/worker.c src/worker.h
leadbookd_LDADD = $(LB_LIBS)
# The scoreboard behind GET /metrics (shared memory mapped by the master, one slot per worker).
libleadbook_a_SOURCES += src/metrics.c src/metrics.h
