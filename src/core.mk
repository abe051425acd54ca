# src/core.mk: the foundation (master, worker, request layer, router, config, log).
libleadbook_a_SOURCES += src/log.c src/log.h src/config.c src/config.h src/buf.c src/buf.h src/status.h

sbin_PROGRAMS += leadbookd
leadbookd_SOURCES = src/leadbookd.c
leadbookd_LDADD = $(LB_LIBS)
