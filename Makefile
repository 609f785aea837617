# Cần Thơ SDI — the two commands a new user needs:
#   make run    set everything up (Debian packages, .venv, PostGIS, demo data, admin, the sample sector database
#               kept in sync, the synthetic sample layers) and serve on :8000
#   make test   the same set-up, then the whole test suite against that real PostGIS
.PHONY: run test setup db data stop-db clean help

PY := .venv/bin/python
export SDI_BIND ?= 127.0.0.1:8000

# A signing key of this checkout's own, made once (git-ignored, mode 0600); production sets SDI_SECRET_KEY itself.
SECRET_KEY_FILE := .sdi/secret_key
ifeq ($(strip $(SDI_SECRET_KEY)),)
SDI_SECRET_KEY := $(shell umask 077 && mkdir -p $(dir $(SECRET_KEY_FILE)) && { [ -s $(SECRET_KEY_FILE) ] || \
	head -c 48 /dev/urandom | base64 -w0 >$(SECRET_KEY_FILE); } && chmod 600 $(SECRET_KEY_FILE) && cat $(SECRET_KEY_FILE))
endif
export SDI_SECRET_KEY

help:
	@echo "make run   - set up and serve the SDI at http://$(SDI_BIND)/ (Ctrl-C stops)"
	@echo "make test  - set up and run the test suite"
	@echo "make stop-db - stop the project-local PostgreSQL cluster"

setup:
	@bash deploy/bootstrap.sh
	@$(PY) -m babel.messages.frontend compile -d config/locale -D messages >/dev/null 2>&1 || { echo "[sdi] error: compiling config/locale failed"; exit 1; }
	@$(PY) manage.py collectstatic --noinput -v 0

db: setup
	@bash deploy/postgis.sh start
	@$(PY) manage.py migrate --noinput -v 0
	@echo "[sdi] database migrated"

data: db
	@$(PY) manage.py load_default_datasets
	@$(PY) manage.py ensure_admin
	@$(PY) manage.py sample_sector || echo "[sdi] warning: the sample sector database could not be set up (see above; e.g. DATABASE_URL's role may not create databases); the SDI runs without it"
	@$(PY) manage.py sample_data || echo "[sdi] warning: the synthetic sample datasets could not be made (see above); the SDI runs without them"
	@$(PY) manage.py add_merge config/merges/cantho-land-use.yml || echo "[sdi] warning: the merged city land-use layer could not be built (see above); the SDI runs without it"

run: data
	@echo ""
	@echo "  Cần Thơ SDI      http://$(SDI_BIND)/"
	@echo "  OGC API          http://$(SDI_BIND)/ogcapi/   (QGIS: WFS / OGC API - Features connection)"
	@echo "  Admin            http://$(SDI_BIND)/admin/"
	@echo "  Ctrl-C stops the server (the database keeps running; 'make stop-db' stops it)"
	@echo ""
	@exec .venv/bin/gunicorn -c deploy/gunicorn.conf.py

test: export SDI_WITH_TESTS = 1
test: db
	@$(PY) -m pytest $(PYTEST_ARGS)

stop-db:
	@bash deploy/postgis.sh stop

clean: stop-db
	rm -rf .venv .pgdata staticfiles
