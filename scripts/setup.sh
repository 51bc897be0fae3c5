#!/usr/bin/env bash
# Builds the project's virtual environment (.venv) with a Python 3.10 interpreter.
# Installs the runtime packages (requirements.txt) and the test and lint tools (requirements-dev.txt).
# Idempotent: when .venv already matches both files it only checks and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.requirements.sha256"
REQUIREMENTS=(requirements.txt requirements-dev.txt)
# One stamp over both files: a change to either reinstalls.
want_sha=$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)

# Rasa 3.6 runs on Python 3.8 to 3.10 only; we pin 3.10.
find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return 0; fi
  if command -v pyenv >/dev/null 2>&1; then
    local v
    v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V | tail -n1 || true)
    if [ -n "$v" ]; then PYENV_VERSION="$v" pyenv which python; return 0; fi
  fi
  for cand in python3.10 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  return 1
}

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_sha" ] &&
   "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  echo "setup: .venv is up to date"
else
  if ! PY=$(find_python); then
    cat >&2 <<'MSG'
setup: no Python 3.10 interpreter found (Rasa 3.6 needs Python 3.8-3.10; this project uses 3.10).
Install one, then run this again, e.g.:
  pyenv install 3.10.13            (with pyenv)
  apt-get install python3.10-venv  (Debian/Ubuntu with a 3.10 package)
or point PYTHON at one:  PYTHON=/path/to/python3.10 make setup
MSG
    exit 1
  fi
  echo "setup: using $PY ($("$PY" --version 2>&1))"
  if [ -d "$VENV" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "setup: removing a .venv built with another Python"; rm -rf "$VENV"
  fi
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  # (pip's notes about this machine's unused local indexes are filtered out)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip<25" 2> >(grep -v "is ignored: it is neither" >&2)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt \
    2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want_sha" > "$STAMP"
  echo "setup: installed requirements into $VENV"
fi

# PDFs need a Bengali TrueType font; the project ships Noto Sans Bengali (OFL) in panchayat/fonts.
for f in NotoSansBengali-Regular.ttf NotoSansLatin-Regular.ttf; do
  [ -s "panchayat/fonts/$f" ] || { echo "setup: missing font panchayat/fonts/$f" >&2; exit 1; }
done

# pdftoppm (poppler-utils) lets the tests look at rendered certificate pages.
if ! command -v pdftoppm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing poppler-utils"
    (apt-get install -y -qq poppler-utils >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq poppler-utils >/dev/null 2>&1; }) ||
      echo "setup: could not install poppler-utils; PDF rendering tests will be skipped" >&2
  else
    echo "setup: pdftoppm not found (Debian package poppler-utils); PDF rendering tests will be skipped" >&2
  fi
fi

# The simulator's browser test drives Debian's Chromium through its chromedriver; no browser is
# ever downloaded by the tests themselves.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium and chromium-driver (for the simulator's browser test)"
    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }) ||
      echo "setup: could not install chromium and chromium-driver; tests/test_simulator_browser.py will fail" >&2
  else
    echo "setup: /usr/bin/chromium or /usr/bin/chromedriver missing (Debian packages chromium, chromium-driver;" \
         "run this as root, or apt-get install them); tests/test_simulator_browser.py will fail" >&2
  fi
fi
