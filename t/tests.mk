# t/tests.mk
