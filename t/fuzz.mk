# t/fuzz.mk: libFuzzer targets (./configure --enable-fuzzers CC=clang).
