# src/webhooks.mk: the webhook deliverer (`leadbookctl webhooks run`, src/webhook_deliver.c).
# It is the only user of libcurl, so its sources are compiled into leadbookctl (after
# src/data.mk has defined it) and not into libleadbook.a: leadbookd never links libcurl.
WEBHOOK_DELIVER_SOURCES = src/webhook_deliver.c src/webhook_deliver.h \
	src/webhook_http.c src/webhook_http.h src/webhook_sign.c src/webhook_sign.h \
	src/store/webhook_deliveries.c src/store/webhook_deliveries.h
leadbookctl_SOURCES += $(WEBHOOK_DELIVER_SOURCES)
leadbookctl_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
leadbookctl_LDADD += $(CURL_LIBS)
