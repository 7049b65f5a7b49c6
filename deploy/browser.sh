#!/usr/bin/env bash
# The browser tests drive Debian's chromium (no browser download works on the bureau's network).
# Installs chromium when missing and we may (root with apt); otherwise the browser tests skip,
# except under CI=true, where they fail.
set -uo pipefail
# fonts-noto-cjk: without a CJK font the screenshots show the Chinese interface as boxes.
have_browser() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
have_fonts() { fc-list 2>/dev/null | grep -qi "noto.*cjk"; }
if have_browser && have_fonts; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian chromium and CJK fonts for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
    fonts-noto-cjk >/dev/null) || echo "could not install chromium: browser tests will not run" >&2
fi
exit 0
