#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine: system packages (when missing) and .venv.
# Idempotent: a second run only checks. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Xvfb for headless windows, Mosquitto for the broker (and its clients, to publish test
# values by hand), the X/GL libraries that Qt's xcb platform and VTK need, and venv
# support for Debian's python3; a fallback font with CJK glyphs, so labels in any language
# are drawn rather than boxes.
APT_PACKAGES=(
  xvfb xauth mosquitto mosquitto-clients python3-venv
  libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 libxkbcommon-x11-0
  libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-droid-fallback
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
