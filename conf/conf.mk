# conf/conf.mk
