# src/data.mk
