"""The sample machines shipped in ``resources/machines``."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Installed, the folder is viewer/resources; in a source checkout, resources/ beside viewer/.
RESOURCES = next(p for p in (_HERE / "resources", _HERE.parent / "resources") if p.is_dir())

#: Demo name -> twin file.
SAMPLES = {
    "pump": RESOURCES / "machines" / "pump" / "pump.twin.yaml",
    "robot": RESOURCES / "machines" / "robot" / "robot.twin.yaml",
}
