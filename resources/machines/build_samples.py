"""Build the two sample machines of the digital-twin viewer as glTF binaries.

Outputs, written next to this script (units: metres, Z up):

* ``pump/pump_skid.glb``   - centrifugal pump skid: base frame, motor, coupling,
  bearing housings, shaft, impeller inside a cut-away volute casing, suction and
  discharge spools with gate valves (rising stems, handwheels), flow meter and
  pressure gauges.
* ``robot/robot_cell.glb`` - six-axis-style robot arm on a pedestal next to a
  belt conveyor.

Every part is a named glTF node carrying one mesh (group nodes carry none).
All node rotations are identity; movable parts have their node origin on their
joint/pivot so a viewer can animate them by changing the node transform only.
Single-coloured parts use a PBR ``baseColorFactor``; multi-coloured parts use a
white base colour plus per-vertex colours (``COLOR_0``).

Run from the repository root (tested with trimesh 5.2, manifold3d 3.5, numpy)::

    python resources/machines/build_samples.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # also when loaded by file path (e.g. importlib), not only run as a script
    sys.path.insert(0, HERE)

from pump_skid import build_pump  # noqa: E402  (re-exported)
from robot_cell import build_robot  # noqa: E402  (re-exported)

__all__ = ["build_pump", "build_robot", "main"]


def main():
    """Build both sample machines and print a short summary."""
    for build, rel in ((build_pump, "pump/pump_skid.glb"), (build_robot, "robot/robot_cell.glb")):
        path = os.path.join(HERE, rel)
        scene = build(path).scene
        tris = sum(len(g.faces) for g in scene.geometry.values())
        print(f"{rel}: {len(scene.geometry)} meshes, {tris} triangles, "
              f"bounds {scene.bounds.round(3).tolist()}")


if __name__ == "__main__":
    main()
