#!/usr/bin/env bash
# The benchmark suite: prepares the machine, runs every benchmark in bench/, and
# writes bench/results.json and bench/RESULTS.md. Extra arguments (e.g. --quick) go
# to every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install -q -e ".[dev,bench]"  # F3D, the peer bench/load.py times against
rm -f bench/results.json
for bench in ingest frame labels history field load; do
  echo "== $bench"
  .venv/bin/python "bench/$bench.py" "$@"
done
for bench in window_open trends; do  # these need a display
  echo "== $bench"
  xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python "bench/$bench.py" "$@"
done
.venv/bin/python bench/report.py
echo "wrote bench/results.json and bench/RESULTS.md"
