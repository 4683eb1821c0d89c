"""The robot cell sample (``robot/robot_cell.glb``).

A six-axis-style robot arm (pedestal, turret, upper arm, forearm, wrist,
gripper; each link's node origin on its joint) next to a belt conveyor with
cartons; :func:`build_robot` puts them together into a :class:`~shapes.Rig`
and writes the GLB.
"""
import numpy as np

from shapes import ALU, BLACK, CARTON, DARK, PED_GREY, ROBOT, X, Y, Z, Rig, box, cyl, hull, paint, taper, v3

SHOULDER, ELBOW = v3(0.08, 0, 1.03), v3(0.08, 0, 1.67)
WRIST, FLANGE = v3(0.70, 0, 1.67), v3(0.85, 0, 1.67)


def pedestal():
    """Robot riser: base plate with anchor bolts, column, gussets and top flange."""
    m = [box([-0.35, -0.35, 0], [0.35, 0.35, 0.03]), cyl(0.17, [0, 0, 0.03], [0, 0, 0.60], 48),
         cyl(0.25, [0, 0, 0.57], [0, 0, 0.60], 48)]
    for a in np.arange(4) * np.pi / 2 + np.pi / 4:
        d, t = v3(np.cos(a), np.sin(a), 0), v3(-np.sin(a), np.cos(a), 0)
        m.append(hull([r * d + h * Z + s * 0.006 * t
                       for s in (-1, 1) for r, h in ((0.16, 0.03), (0.16, 0.30), (0.31, 0.03))]))
        m.append(cyl(0.016, 0.44 * d + 0.03 * Z, 0.44 * d + 0.05 * Z, 6))
    return paint(m, PED_GREY)


def turret(o):
    """Base (axis-1) turret: rotating disc, body, shoulder clevis and axis-1/2 motors."""
    links = [taper(o + 0.1 * Z + 0.02 * X, SHOULDER - 0.02 * Z, X, (0.40, 0.36), (0.26, 0.34))]
    links += [taper(SHOULDER - 0.05 * Z + s * 0.15 * Y, SHOULDER + s * 0.15 * Y, X,
                    (0.24, 0.06), (0.24, 0.06)) for s in (-1, 1)]  # shoulder clevis cheeks
    joints = [cyl(0.24, o, o + 0.1 * Z, 48), cyl(0.12, SHOULDER - 0.2 * Y, SHOULDER + 0.2 * Y, 40),
              cyl(0.07, o + [-0.2, 0.1, 0.1], o + [-0.2, 0.1, 0.32], 24),
              cyl(0.08, SHOULDER + 0.2 * Y, SHOULDER + 0.33 * Y, 32)]
    return paint(links, ROBOT) + paint(joints, DARK)


def upper_arm(o):
    """Upper arm link pointing up from the shoulder to the elbow."""
    links = [taper(o, ELBOW, X, (0.2, 0.17), (0.15, 0.15)), cyl(0.13, o - 0.12 * Y, o + 0.12 * Y, 40),
             cyl(0.1, ELBOW - 0.075 * Y, ELBOW + 0.075 * Y, 40)]
    joints = [cyl(0.07, ELBOW - 0.16 * Y, ELBOW + 0.16 * Y, 32)]
    return paint(links, ROBOT) + paint(joints, DARK)


def forearm(o):
    """Forearm from the elbow forward (+X) to the wrist, with rear motor pack."""
    links = [taper(o - 0.14 * X, o + 0.1 * X, Y, (0.2, 0.2), (0.2, 0.2)),
             taper(o + 0.1 * X, WRIST - 0.03 * X, Y, (0.17, 0.16), (0.12, 0.12)),
             cyl(0.075, WRIST - 0.06 * Y, WRIST + 0.06 * Y, 32)]
    joints = [cyl(0.065, o - 0.32 * X, o - 0.14 * X, 32),            # axis-4 motor
              cyl(0.05, o + [-0.12, 0.1, 0], o + [-0.12, 0.17, 0], 24),  # axis-3 motor
              cyl(0.05, WRIST - 0.09 * Y, WRIST + 0.09 * Y, 24)]
    return paint(links, ROBOT) + paint(joints, DARK)


def wrist(o):
    """Wrist pitch body ending in the tool flange."""
    links = [taper(o, FLANGE - 0.03 * X, Y, (0.1, 0.1), (0.09, 0.09))]
    joints = [cyl(0.045, FLANGE - 0.03 * X, FLANGE, 32)]
    return paint(links, ROBOT) + paint(joints, DARK)


def gripper(o):
    """Parallel two-finger gripper along +X from the tool flange."""
    body = [cyl(0.05, o, o + 0.025 * X, 32), box(o + [0.025, -0.075, -0.045], o + [0.13, 0.075, 0.045])]
    fingers = [box(o + [0.13, s * 0.022, -0.022], o + [0.25, s * 0.04, 0.022]) for s in (-1, 1)]
    fingers += [box(o + [0.21, s * 0.016, -0.02], o + [0.25, s * 0.022, 0.02]) for s in (-1, 1)]  # pads
    body.append(cyl(0.012, o + [0.07, 0, 0.045], o + [0.07, 0, 0.075], 12))  # air fitting, top only
    return paint(body, ALU) + paint(fingers, DARK)


def conveyor():
    """Belt conveyor along Y in front of the robot, with legs, drive and cartons."""
    x0, x1, top = 0.83, 1.29, 0.80
    frame = [box([x0 - 0.025, -0.95, 0.70], [x0, 0.95, 0.82]),
             box([x1, -0.95, 0.70], [x1 + 0.025, 0.95, 0.82])]
    for y in (-0.85, 0.0, 0.85):
        for x in (x0 - 0.05, x1):
            frame.append(box([x, y - 0.025, 0], [x + 0.05, y + 0.025, 0.70]))
        frame.append(box([x0, y - 0.02, 0.22], [x1, y + 0.02, 0.26]))
    belt = [box([x0, -0.90, top - 0.03], [x1, 0.90, top])]
    belt += [cyl(0.035, [x0, y, top - 0.035], [x1, y, top - 0.035]) for y in (-0.9, 0.9)]  # end rollers
    drive = [cyl(0.06, [x1 + 0.03, -0.9, 0.765], [x1 + 0.28, -0.9, 0.765], 32),
             box([x1 + 0.025, -0.97, 0.69], [x1 + 0.12, -0.83, 0.84])]
    cartons = [box([0.90, -0.62, top], [1.16, -0.36, top + 0.20]),
               box([0.95, -0.10, top], [1.18, 0.12, top + 0.16]),
               box([0.88, 0.38, top], [1.20, 0.70, top + 0.24])]
    return paint(frame, ALU) + paint(belt, BLACK) + paint(drive, (40, 70, 140)) + paint(cartons, CARTON)


def build_robot(path):
    """Build the robot cell and write it to ``path``; returns the :class:`Rig`."""
    rig = Rig("cell")
    base = v3(0, 0, 0.60)
    rig.add("pedestal", "cell", pedestal(), metallic=0.3)
    rig.add("conveyor", "cell", conveyor(), metallic=0.3)
    rig.add("turret", "pedestal", turret(base), base)
    rig.add("upper_arm", "turret", upper_arm(SHOULDER), SHOULDER)
    rig.add("forearm", "upper_arm", forearm(ELBOW), ELBOW)
    rig.add("wrist", "forearm", wrist(WRIST), WRIST)
    rig.add("gripper", "wrist", gripper(FLANGE), FLANGE, metallic=0.5)
    rig.export(path)
    return rig
