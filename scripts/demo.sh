#!/usr/bin/env bash
# The demo: sample pump skid, embedded MQTT broker and sensor simulator.
# Prepares the machine first. Without a display it runs on a virtual one (Xvfb) and
# saves a screenshot to demo.png. Extra arguments go to `twinview demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/twinview demo "$@"
fi
echo "demo: no display found, running on Xvfb; the window is saved to demo.png"
exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/twinview demo --screenshot demo.png --seconds 10 "$@"
