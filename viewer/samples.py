"""The sample machines shipped in ``resources/machines``."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

#: Demo name -> twin file.
SAMPLES = {
    "pump": RESOURCES / "machines" / "pump" / "pump.twin.yaml",
    "robot": RESOURCES / "machines" / "robot" / "robot.twin.yaml",
}
