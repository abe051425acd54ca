# src/valid.mk
