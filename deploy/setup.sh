#!/usr/bin/env bash
# Create .venv and install the project (and, with "dev", the test tools) — only when something changed.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "hotline-gateway needs Python 3.11 or newer (python3.11 with venv and pip)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "==> creating .venv with $py"
  "$py" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

spec="."
[ "$extra" = "dev" ] && spec=".[dev]"
stamp=".venv/.installed-$(echo "$spec" | tr -c 'a-z' '_')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing hotline-gateway ($spec)"
  .venv/bin/python -m pip install --quiet -e "$spec"
  touch "$stamp"
fi
