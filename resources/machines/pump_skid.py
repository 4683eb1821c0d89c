"""The centrifugal pump skid sample (``pump/pump_skid.glb``).

Base frame, motor, coupling, bearing housings, shaft, impeller inside a
cut-away volute casing, suction and discharge spools with gate valves (rising
stems, handwheels), flow meter and pressure gauges; :func:`build_pump` puts
them together into a :class:`~shapes.Rig` and writes the GLB.
"""
import numpy as np
import trimesh

from shapes import (BLACK, BLUE_GREY, BRIGHT, BRONZE, DARK, ORANGE, PIPE, RAL_BLUE, RED, STEEL, VALVE,
                    WHITE, YELLOW, X, Y, Z, Rig, bolts, boolean, box, cyl, flange, frustum, hull, paint,
                    taper, tube, unit, v3)

AXIS_Z, X_CAS = 0.55, 0.42  # pump shaft centre-line height, casing/impeller centre plane
R_SUC, R_DIS, Z_DIS = 0.084, 0.057, 1.25  # suction/discharge pipe radii, discharge run height


def ibeam(lo, hi, along, tf=0.012, tw=0.009):
    """I-beam filling the box ``lo``..``hi`` with its web along axis index ``along`` (0=X, 1=Y)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    side = 1 - along
    mid = 0.5 * (lo[side] + hi[side])
    web_lo, web_hi = lo.copy(), hi.copy()
    web_lo[side], web_hi[side] = mid - tw / 2, mid + tw / 2
    return [box(lo, [*hi[:2], lo[2] + tf]), box([*lo[:2], hi[2] - tf], hi), box(web_lo, web_hi)]


def base_frame():
    """Skid base frame: two I-beam rails, cross beams, motor and pump pads, lifting lugs."""
    m = []
    for y in (-0.36, 0.36):
        m += ibeam([-1.05, y - 0.05, 0], [1.15, y + 0.05, 0.16], along=0)
        for x in (-1.05, 1.15):
            m.append(tube(0.018, 0.04, [x - 0.04 * np.sign(x), y + 0.05 * np.sign(y), 0.11],
                          [x - 0.04 * np.sign(x), y + 0.062 * np.sign(y), 0.11], 20))
    for x in (-1.0, -0.55, -0.1, 0.45, 1.1):
        m += ibeam([x - 0.045, -0.31, 0], [x + 0.045, 0.31, 0.16], along=1)
    m.append(box([-0.98, -0.27, 0.16], [-0.30, 0.27, 0.20]))  # motor pad
    m.append(box([-0.14, -0.22, 0.16], [0.56, 0.22, 0.24]))   # pump pedestal
    return paint(m, YELLOW)


def motor():
    """TEFC induction motor along +X: finned body, fan cowl, end shield, terminal box, feet."""
    body = [cyl(0.18, [-0.95, 0, AXIS_Z], [-0.40, 0, AXIS_Z], 48)]
    for a in np.arange(40) * 2 * np.pi / 40:
        if abs(a - np.pi) > 0.45:  # leave the underside free for the feet
            rib = box([-0.92, -0.0035, 0.17], [-0.43, 0.0035, 0.207])
            body.append(rib.apply_transform(trimesh.transformations.rotation_matrix(a, X))
                        .apply_translation([0, 0, AXIS_Z]))
    # body and ribs fine enough along their length for a temperature field from the casing's
    # thermocouples (a field colours vertices): edges of at most 4 cm
    body = [trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(m.vertices, m.faces, 0.04)) for m in body]
    body.append(cyl(0.195, [-1.03, 0, AXIS_Z], [-0.945, 0, AXIS_Z], 48))  # fan cowl
    body += [tube(r - 0.012, r, [-1.036, 0, AXIS_Z], [-1.03, 0, AXIS_Z], 40) for r in (0.06, 0.11, 0.16)]
    body.append(frustum(v3(-0.40, 0, AXIS_Z), v3(-0.35, 0, AXIS_Z), 0.17, 0.12))  # end shield
    body.append(cyl(0.06, [-0.35, 0, AXIS_Z], [-0.33, 0, AXIS_Z]))
    for x in (-0.85, -0.50):  # feet
        body.append(box([x - 0.05, -0.23, 0.20], [x + 0.05, 0.23, 0.23]))
        body.append(box([x - 0.04, -0.14, 0.23], [x + 0.04, 0.14, 0.42]))
    body.append(box([-0.72, -0.09, 0.70], [-0.52, 0.09, 0.82]))   # terminal box
    body.append(box([-0.73, -0.10, 0.82], [-0.51, 0.10, 0.835]))  # its lid
    body.append(cyl(0.018, [-0.62, -0.09, 0.75], [-0.62, -0.13, 0.75], 16))  # cable gland
    eye = trimesh.creation.torus(0.03, 0.008, 24, 8)
    eye.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, X))
    eye.apply_translation([-0.82, 0, AXIS_Z + 0.22])
    body.append(eye)
    steel = [cyl(0.028, [-0.34, 0, AXIS_Z], [-0.26, 0, AXIS_Z]),            # shaft end
             box([-0.66, -0.186, 0.50], [-0.56, -0.182, 0.56])]                # name plate
    return paint(body, BLUE_GREY) + paint(steel, BRIGHT)


def bearing_housing(x):
    """Pedestal bearing block centred on the shaft line at ``x``."""
    c = v3(x, 0, AXIS_Z)
    m = [box([x - 0.05, -0.12, 0.24], [x + 0.05, 0.12, 0.27]),            # sole plate
         box([x - 0.035, -0.09, 0.27], [x + 0.035, 0.09, AXIS_Z - 0.05]),  # pedestal web
         tube(0.031, 0.09, c - 0.065 * X, c + 0.065 * X, 48),
         tube(0.031, 0.075, c - 0.08 * X, c + 0.08 * X, 48),               # end covers
         cyl(0.008, c + 0.085 * Z, c + 0.115 * Z, 8)]                      # grease nipple
    for sx in (-1, 1):
        m += bolts(c + sx * 0.08 * X, sx * X, 0.058, 4, 0.007, 0.01, np.pi / 4)
        m.append(cyl(0.012, [x, sx * 0.095, 0.27], [x, sx * 0.095, 0.285], 6))
    return paint(m, STEEL)


def coupling():
    """Jaw coupling: two hubs, spider jaws, set screws (deliberately not rotationally symmetric)."""
    hubs = [cyl(0.065, [-0.29, 0, AXIS_Z], [-0.235, 0, AXIS_Z], 40),
            cyl(0.065, [-0.205, 0, AXIS_Z], [-0.15, 0, AXIS_Z], 40)]
    u, v = Y, Z
    jaws = []
    for k in range(6):
        a = 2 * np.pi * k / 6
        d = np.cos(a) * u + np.sin(a) * v
        p = v3(-0.22, 0, AXIS_Z) + 0.042 * d
        jaws.append(cyl(0.016, p - 0.018 * X, p + 0.018 * X, 12))
    screws = [cyl(0.009, v3(x, 0, AXIS_Z) + 0.06 * Z, v3(x, 0, AXIS_Z) + 0.08 * Z, 6)
              for x in (-0.262, -0.178)]
    screws += bolts(v3(-0.15, 0, AXIS_Z), X, 0.045, 3, 0.008, 0.012)
    return paint(hubs, ORANGE) + paint(jaws, BLACK) + paint(screws, DARK)


def impeller():
    """Open centrifugal impeller: backplate, hub, nut and six backward-curved vanes."""
    m = [cyl(0.175, [0.372, 0, AXIS_Z], [0.384, 0, AXIS_Z], 64),
         cyl(0.05, [0.36, 0, AXIS_Z], [0.44, 0, AXIS_Z], 32),
         cyl(0.03, [0.44, 0, AXIS_Z], [0.46, 0, AXIS_Z], 6)]
    s = np.linspace(0, 1, 9)
    for k in range(6):
        ang = 2 * np.pi * k / 6 + 1.1 * s
        rad = 0.045 + 0.125 * s
        pts = np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
        height = 0.055 - 0.025 * s
        for i in range(len(s) - 1):
            t = unit(pts[i + 1] - pts[i])
            n = np.array([-t[1], t[0]]) * 0.004
            m.append(hull([[xx, q[0] + sn * n[0], AXIS_Z + q[1] + sn * n[1]]
                           for q, h in ((pts[i], height[i]), (pts[i + 1], height[i + 1]))
                           for sn in (-1, 1) for xx in (0.38, 0.384 + h)]))
    return paint(m, BRONZE)


def volute(x0, x1, r0, r1, n=96):
    """Spiral volute prism between ``x0`` and ``x1``; radius grows from ``r0`` to ``r1``."""
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = r0 + (r1 - r0) * th / (2 * np.pi)
    verts = np.vstack([[0, 0], np.column_stack([r * np.cos(th), r * np.sin(th)])])
    faces = [[0, i + 1, (i + 1) % n + 1] for i in range(n)]
    mesh = trimesh.creation.extrude_triangulation(verts, faces, height=x1 - x0)
    frame = np.eye(4)
    frame[:3, :3] = np.column_stack([Z, -Y, X])  # local u -> Z, v -> -Y, extrusion -> X
    frame[:3, 3] = [x0, 0, AXIS_Z]
    return mesh.apply_transform(frame)


def casing():
    """Volute casing with suction/discharge nozzles, cut away in the front-upper quadrant."""
    c = v3(X_CAS, 0, AXIS_Z)
    solid = boolean("union", [
        volute(0.34, 0.50, 0.215, 0.285),
        cyl(0.13, [0.27, 0, AXIS_Z], [0.345, 0, AXIS_Z], 48),          # seal housing / back cover
        cyl(0.2, [0.325, 0, AXIS_Z], [0.345, 0, AXIS_Z], 64),
        cyl(0.095, c, [0.62, 0, AXIS_Z], 48),            # suction nozzle
        cyl(0.14, [0.62, 0, AXIS_Z], [0.645, 0, AXIS_Z], 48),
        cyl(0.075, c, [X_CAS, 0, 0.90], 48),                          # discharge nozzle
        cyl(0.12, [X_CAS, 0, 0.90], [X_CAS, 0, 0.925], 48),
        box([0.36, -0.2, 0.24], [0.48, 0.2, 0.27]), box([0.37, -0.09, 0.27], [0.47, 0.09, 0.36])])
    hollow = boolean("difference", [
        solid, volute(0.36, 0.48, 0.19, 0.262),
        cyl(0.036, [0.25, 0, AXIS_Z], [0.37, 0, AXIS_Z]),
        cyl(0.076, [0.45, 0, AXIS_Z], [0.66, 0, AXIS_Z], 48),
        cyl(R_DIS, c, [X_CAS, 0, 0.95], 48),
        box([0.30, -0.5, AXIS_Z], [0.60, 0.0, AXIS_Z + 0.30])])         # the cut-away
    m = [hollow]
    m += bolts(v3(0.645, 0, AXIS_Z), X, 0.115, 8, 0.008, 0.012, np.pi / 8)
    m += bolts(v3(X_CAS, 0, 0.925), Z, 0.097, 8, 0.007, 0.012, np.pi / 8)
    m += bolts(v3(0.325, 0, AXIS_Z), -X, 0.17, 10, 0.008, 0.012)
    return paint(m, RAL_BLUE)


def handwheel(center, radius):
    """Valve handwheel around ``center`` (axis +Z): rim, hub, three spokes and a spinner knob."""
    rim = trimesh.creation.torus(radius, 0.011, 48, 12).apply_translation(center)
    m = [rim, cyl(0.024, center - 0.02 * Z, center + 0.02 * Z, 24)]
    for a in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
        d = v3(np.cos(a), np.sin(a), 0)
        m.append(cyl(0.007, center + 0.02 * d, center + radius * d, 10))
    knob = center + radius * X
    m.append(cyl(0.009, knob, knob + 0.06 * Z, 12))
    return paint(m, RED)


def gate_valve(c, run, r_pipe, length):
    """Flanged rising-stem gate valve centred at ``c`` in a pipe running along ``run``.

    Returns
    -------
    tuple
        ``(body_parts, stem_parts, stem_origin, wheel_parts, wheel_centre)``, world coordinates.
    """
    run = unit(run)
    squash = np.eye(4)
    squash[:3, :3] += (0.55 - 1) * np.outer(run, run)
    squash[:3, 3] = -squash[:3, :3] @ c + c
    rf = r_pipe * 1.75
    body = [cyl(r_pipe * 1.15, c - run * length / 2, c + run * length / 2, 40),
            cyl(r_pipe * 1.3, c - Z * r_pipe * 1.3, c + Z * r_pipe * 1.6, 40).apply_transform(squash)]
    for s in (-1, 1):
        body += flange(c + s * run * length / 2, -s * run, r_pipe * 0.9, rf, 0.024)
    top = c + Z * r_pipe * 1.6
    body.append(cyl(r_pipe * 1.45, top, top + 0.022 * Z, 40).apply_transform(squash))
    body += bolts(top, Z, r_pipe * 1.22, 6, 0.007, 0.034)
    bonnet = top + (0.022 + 1.6 * r_pipe) * Z
    body.append(frustum(top + 0.022 * Z, bonnet, r_pipe * 0.75, r_pipe * 0.42))
    yoke = bonnet + (0.12 + 0.9 * r_pipe) * Z
    for s in (-1, 1):
        p = bonnet + s * run * r_pipe * 0.6
        body.append(taper(p, yoke + s * run * r_pipe * 0.6, run, (0.02, 0.04), (0.02, 0.04)))
    body.append(taper(yoke - 0.012 * Z, yoke + 0.012 * Z, run, (r_pipe * 1.4, 0.05), (r_pipe * 1.4, 0.05)))
    body.append(cyl(0.028, yoke + 0.012 * Z, yoke + 0.04 * Z, 6))
    wheel_c = yoke + 0.06 * Z
    stem = paint(cyl(0.011, bonnet, wheel_c + 0.13 * Z, 16), BRIGHT)
    return paint(body, VALVE), stem, bonnet, handwheel(wheel_c, 0.08 + r_pipe), wheel_c


def gauge(base, top, face):
    """Dial pressure gauge on a stalk from ``base`` to ``top``; dial faces ``face``."""
    face = unit(face)
    dc = top + 0.06 * Z
    needle_dir = unit(np.cross(Z, face) + Z)
    m = paint([cyl(0.007, base, top, 12), box(top - [0.018] * 3, top + [0.018] * 3),
               cyl(0.007, top, dc, 12), cyl(0.05, dc - 0.015 * face, dc + 0.015 * face, 32),
               tube(0.043, 0.052, dc + 0.012 * face, dc + 0.02 * face, 32)], STEEL)
    m += paint(cyl(0.044, dc + 0.014 * face, dc + 0.017 * face, 32), WHITE)
    m += paint(cyl(0.002, dc + 0.019 * face, dc + 0.019 * face + 0.035 * needle_dir, 6), RED)
    return m


def flow_meter(c, run, r_pipe):
    """Inline magnetic flow meter with flanges and a round transmitter head on top."""
    run = unit(run)
    m = paint([cyl(r_pipe * 1.5, c - 0.09 * run, c + 0.09 * run, 40)]
              + flange(c - 0.11 * run, run, r_pipe, r_pipe * 1.9, 0.022)
              + flange(c + 0.11 * run, -run, r_pipe, r_pipe * 1.9, 0.022), (90, 120, 150))
    head = c + (r_pipe * 1.5 + 0.12) * Z
    m += paint([cyl(0.022, c, head, 16), cyl(0.065, head - 0.04 * Z, head + 0.05 * Z, 32),
                cyl(0.035, head + 0.05 * Z, head + 0.08 * Z, 6)], BRIGHT)
    m += paint(box(head + [-0.03, -0.068, -0.02], head + [0.03, -0.05, 0.03]), BLACK)
    return m


def suction_pipe():
    """Suction spool along +X: nozzle flange at x=0.645, valve gap 0.825-1.005, open end at 1.245."""
    ax, wall = v3(0, 0, AXIS_Z), R_SUC - 0.008
    m = [tube(wall, R_SUC, ax + 0.66 * X, ax + 0.81 * X), tube(wall, R_SUC, ax + 1.02 * X, ax + 1.23 * X),
         box([1.10, -0.03, 0.16], [1.15, 0.03, AXIS_Z - R_SUC]),                     # pipe support
         box([1.08, -0.07, AXIS_Z - R_SUC - 0.02], [1.17, 0.07, AXIS_Z - R_SUC])]
    for x0, d in ((0.645, 1), (0.825, -1), (1.005, 1), (1.245, -1)):
        m += flange(ax + x0 * X, d * X, wall, 0.14)
    return paint(m, PIPE)


def discharge_pipe():
    """Discharge spool: up from the nozzle, 90-degree elbow to +Y, gaps for valve and flow meter."""
    bend, wall = 0.15, R_DIS - 0.007
    torus = trimesh.creation.torus(bend, R_DIS, 48, 24)
    torus.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, Y))
    torus.apply_translation([X_CAS, bend, Z_DIS - bend])
    elbow = boolean("intersection", [torus, box([X_CAS - 0.1, -0.1, Z_DIS - bend],
                                                [X_CAS + 0.1, bend, Z_DIS + 0.1])])
    m = [tube(wall, R_DIS, [X_CAS, 0, 0.945], [X_CAS, 0, Z_DIS - bend]), elbow,
         tube(wall, R_DIS, [X_CAS, bend, Z_DIS], [X_CAS, 0.30, Z_DIS]),
         tube(wall, R_DIS, [X_CAS, 0.48, Z_DIS], [X_CAS, 0.86, Z_DIS])]
    m += flange(v3(X_CAS, 0, 0.925), Z, wall, 0.12)
    for y0, d in ((0.30, -1), (0.48, 1), (0.86, -1)):
        m += flange(v3(X_CAS, y0, Z_DIS), d * Y, wall, 0.11)
    return paint(m, PIPE)


def build_pump(path):
    """Build the centrifugal pump skid and write it to ``path``; returns the :class:`Rig`."""
    rig = Rig("skid")
    rig.add("base_frame", "skid", base_frame(), metallic=0.2)
    rig.add("motor", "skid", motor(), metallic=0.2, rough=0.45)
    rig.add("bearing_de", "skid", bearing_housing(-0.05), metallic=0.7, rough=0.4)
    rig.add("bearing_nde", "skid", bearing_housing(0.17), metallic=0.7, rough=0.4)
    shaft_origin = v3(0.0, 0, AXIS_Z)
    shaft = paint([cyl(0.03, [-0.21, 0, AXIS_Z], [0.445, 0, AXIS_Z], 32),             # shaft + key
                   box([-0.19, -0.006, AXIS_Z + 0.024], [-0.12, 0.006, AXIS_Z + 0.036])], BRIGHT)
    rig.add("shaft", "skid", shaft, shaft_origin, metallic=0.9, rough=0.25)
    rig.add("coupling", "shaft", coupling(), shaft_origin, metallic=0.3)
    rig.add("impeller", "shaft", impeller(), shaft_origin, metallic=0.8, rough=0.35)
    rig.add("casing", "skid", casing(), metallic=0.2, rough=0.5)

    rig.add("suction_pipe", "skid", suction_pipe(), metallic=0.6, rough=0.4)
    rig.add("discharge_pipe", "skid", discharge_pipe(), metallic=0.6, rough=0.4)
    for name, c, run, r, length in (("suction_valve", v3(0.915, 0, AXIS_Z), X, R_SUC, 0.18),
                                    ("discharge_valve", v3(X_CAS, 0.39, Z_DIS), Y, R_DIS, 0.18)):
        body, stem, stem_o, wheel, wheel_c = gate_valve(c, run, r, length)
        rig.add(name, "skid", body, c, metallic=0.4, rough=0.5)
        rig.add(f"{name}_stem", name, stem, stem_o, metallic=0.9, rough=0.2)
        rig.add(f"{name}_handwheel", name, wheel, wheel_c, metallic=0.2, rough=0.5)

    rig.add("flow_meter", "skid", flow_meter(v3(X_CAS, 0.66, Z_DIS), Y, R_DIS), metallic=0.3)
    rig.add("pressure_gauge_suction", "skid",
            gauge(v3(0.74, 0, AXIS_Z + R_SUC), v3(0.74, 0, 0.76), -Y), metallic=0.5, rough=0.4)
    rig.add("pressure_gauge_discharge", "skid",
            gauge(v3(X_CAS, -R_DIS, 1.02), v3(X_CAS, -0.15, 1.02), -Y), metallic=0.5, rough=0.4)
    rig.export(path)
    return rig

