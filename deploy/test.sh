#!/usr/bin/env bash
# One command for every check: lint, types, and the whole test suite (unit, integration on SQLite,
# PostgreSQL and Redis, end to end over real HTTP). Under CI=true, tests that need PostgreSQL or Redis
# fail instead of skipping. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh dev
deploy/browser.sh
echo "==> ruff";  .venv/bin/ruff check .
echo "==> mypy";  .venv/bin/mypy
echo "==> pytest"
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
