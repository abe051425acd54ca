# t/fault.mk: fault harness and security tests (through the real stack).
