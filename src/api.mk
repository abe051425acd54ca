# src/api.mk: the HTTP handlers, one file per resource.
libleadbook_a_SOURCES += src/api/api.h src/api/routes.c src/api/common.c src/api/health.c \
	src/api/leads.c src/api/bookings.c src/api/agents.c src/api/tenants.c \
	src/api/idempotency.c src/api/booking_changes.c
libleadbook_a_SOURCES += src/api/webhooks.c
libleadbook_a_SOURCES += src/api/metrics.c
