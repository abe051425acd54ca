# conf/conf.mk: deployment. The sample configuration, the nginx site and the man pages
# are installed by "make install"; the systemd units, the Debian packaging, the
# dev/test nginx generator and the package smoke test travel in the tarball.

# /etc/leadbook/leadbook.conf (in the Debian package a conffile; its postinst makes it
# 0640 root:leadbook on the first install, since it may hold a database password).
leadbookconfdir = $(sysconfdir)/leadbook
dist_leadbookconf_DATA = conf/leadbook.conf conf/jwks.json

# /etc/nginx/sites-available/leadbook: Debian names its sites without a suffix, so
# the site is installed from a copy called "leadbook" made in the build tree.
nginxsitedir = $(sysconfdir)/nginx/sites-available
nginxsite_DATA = conf/nginx/leadbook
CLEANFILES += conf/nginx/leadbook
conf/nginx/leadbook: conf/nginx/leadbook.conf
	$(AM_V_GEN)$(MKDIR_P) conf/nginx && cp $(srcdir)/conf/nginx/leadbook.conf $@

dist_man_MANS = doc/leadbookd.8 doc/leadbookctl.8 doc/leadbook.conf.5

EXTRA_DIST += \
	conf/nginx/leadbook.conf \
	conf/systemd/leadbook.socket conf/systemd/leadbook.service \
	conf/systemd/leadbook-expire.service conf/systemd/leadbook-expire.timer \
	conf/systemd/leadbook-webhooks.service \
	README.md scripts/deps scripts/dev-up scripts/dev-down scripts/dev-token scripts/test-all \
	scripts/lint \
	scripts/nginx-conf \
	t/deb-smoke \
	debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format \
	debian/postinst debian/prerm debian/postrm debian/leadbook.docs \
	debian/leadbook.service debian/leadbook.socket \
	debian/leadbook.leadbook-expire.service debian/leadbook.leadbook-expire.timer \
	debian/leadbook.leadbook-webhooks.service
