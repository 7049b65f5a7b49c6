#!/usr/bin/env bash
# One command for the whole system on the embedded default: SQLite, in-process broker and worker,
# the mock platforms generating tickets, the API and the dashboard on http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
exec .venv/bin/hotline-gateway demo "$@"
