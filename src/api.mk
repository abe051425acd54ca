# src/api.mk
