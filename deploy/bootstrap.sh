#!/usr/bin/env bash
# Install what the SDI needs on Debian 12 (system packages + .venv), idempotently and fast on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(postgresql-15 postgresql-15-postgis-3 postgresql-client-15 gdal-bin libgdal-dev)
# `make test` (SDI_WITH_TESTS=1) also needs the headless browser of the page tests (tests/browser.py); a server
# started by `make run` does not, so it is spared those ~500 MB.
if [ "${SDI_WITH_TESTS:-0}" = 1 ]; then DEBIAN_PACKAGES+=(chromium chromium-driver); fi
log() { printf '\033[1;34m[sdi]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[sdi] error:\033[0m %s\n' "$*" >&2; exit 1; }

install_debian_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && { log "Debian packages present"; return; }
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  # Debian 12's python3 is 3.11, on which pip silently picks old pygeoapi/Django releases.
  local candidates=("${SDI_PYTHON:-}" python3.14 python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=($(ls -d "$(pyenv root)"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV))
  fi
  candidates+=(/usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12)
  for c in "${candidates[@]}"; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
      command -v "$c" 2>/dev/null || echo "$c"
      return 0
    fi
  done
  return 1
}

make_venv() {
  local stamp=.venv/.sdi-installed
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
    log "Python environment up to date (.venv)"
    return
  fi
  local py
  py=$(find_python) || die "Python >= 3.12 is required (pygeoapi 0.24, Django 6.1). Install one, or set SDI_PYTHON=/path/to/python3.12."
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    log "creating .venv with $py ($("$py" --version))"
    rm -rf .venv
    "$py" -m venv .venv
  fi
  log "installing the project into .venv (pip)"
  # (grep drops the notices some pip set-ups print for every package about local index folders, and
  # setuptools' generic editable-install banner)
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
  .venv/bin/python -m pip install -q -e '.[test]' 2>&1 | grep -vE "is ignored: it is neither|BuildBackendWarning|^ *!!|\*{10}|Please be careful|name as your package|wheel_obj|^ *$" || true
  .venv/bin/python -c 'import django, pygeoapi, rasterio, psycopg, selenium' ||
    die "the Python environment is incomplete: pip failed (see above)"
  touch "$stamp"
}

install_debian_packages
make_venv
