# t/e2e.mk: end-to-end API tests (real nginx, leadbookd, PostgreSQL) and the OpenAPI check.
