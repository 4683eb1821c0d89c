#!/usr/bin/env bash
# The whole test suite: prepares the machine, checks the layer contracts, runs pytest
# (which starts its own Xvfb and Mosquitto). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
