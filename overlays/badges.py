"""Alarm badges: a severity icon beside each part in alarm, tied to it by a leader line.

Like :mod:`overlays.labels`, every badge of a scene is drawn by one textured 2D actor:
the icons are drawn once into a small atlas, and a frame only moves quads (one numpy
pass over all badges, however many). The actor sits in a top layer
(:class:`~overlays.ontop.TopLayer`), so badges show over everything, including parts
that cover the part in alarm; whether they do is read from the same frame's depth
buffer, and a covered part's badge says so: its leader is dashed, its anchor is a
ring instead of a dot, and a dashed ring surrounds the badge.

The look, per severity (1 info, 2 warning, 3 alarm): a blue circle "i", an amber
triangle "!", a red square "!" (the shape tells them apart without colour).
Unacknowledged: filled, with a halo that may blink; acknowledged: outlined.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib
import numpy as np
from overlays import vtk_classes as vtk
from PIL import Image, ImageDraw, ImageFont
from vtkmodules.util.numpy_support import numpy_to_vtk

from overlays.ontop import TopLayer
from overlays.palette import SEVERITY_RGB

_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
_DARK = (24, 28, 36)
BADGE_PX, HALO_PX, RING_PX, DOT_PX, LEADER_PX = 30, 46, 42, 10, 4  # sizes on screen
_DASHES = 7  # quads per leader line: solid ones touch, dashed ones cover half each
_GAP = (22, 18)  # badge centre beyond the part's projected box: right, up (pixels)
_REACH = (110, 80)  # ... but never farther right/up than this from the part's centre
# Quads of one badge, drawn in this order (later on top).
_LEADER, _DOT, _HALO, _RING, _BADGE = range(_DASHES), _DASHES, _DASHES + 1, _DASHES + 2, _DASHES + 3
_QUADS = _DASHES + 4


@functools.cache
def atlas() -> tuple[np.ndarray, dict]:
    """The badge images side by side (RGBA, rows top down) and each one's cell
    ``(left, top, width, height)`` in pixels, keyed ``("badge", severity, filled)``,
    ``("halo", severity)``, ``("ring",)``, ``("dot", severity, filled)``, ``("leader", severity)``."""
    images = {}
    for severity, rgb in SEVERITY_RGB.items():
        rgb = tuple(int(c) for c in rgb)
        images[("badge", severity, True)] = _badge(severity, rgb, True)
        images[("badge", severity, False)] = _badge(severity, rgb, False)
        images[("halo", severity)] = _halo(rgb)
        images[("dot", severity, True)] = _dot(rgb, True)
        images[("dot", severity, False)] = _dot(rgb, False)
        strip = np.zeros((LEADER_PX, LEADER_PX, 4), dtype=np.uint8)
        strip[:, :] = (*_DARK, 200)
        strip[1:-1, :] = (*rgb, 255)  # dark edges along the line (across the quad's v), not across it
        images[("leader", severity)] = strip
    images[("ring",)] = _ring()
    width = sum(im.shape[1] + 2 for im in images.values())  # 2 px apart: no bleeding
    height = max(im.shape[0] for im in images.values())
    sheet = np.zeros((height, width, 4), dtype=np.uint8)
    cells, x = {}, 0
    for key, im in images.items():
        h, w = im.shape[:2]
        sheet[:h, x:x + w] = im
        cells[key] = (x, 0, w, h)
        x += w + 2
    return sheet, cells


def _canvas(size: int, scale: int = 4) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGBA", (size * scale, size * scale), (0, 0, 0, 0))
    return image, ImageDraw.Draw(image)


def _done(image: Image.Image, size: int) -> np.ndarray:
    """Drawn 4x larger and scaled down: smooth edges."""
    return np.asarray(image.resize((size, size), Image.LANCZOS))


def _badge(severity: int, rgb: tuple, filled: bool) -> np.ndarray:
    s = 4
    size = BADGE_PX * s
    image, draw = _canvas(BADGE_PX, s)
    inner = (*_DARK, 235)
    border = 2 * s
    if severity == 2:  # warning: a triangle
        pts = [(size / 2, 1 * s), (size - 1 * s, size - 3 * s), (1 * s, size - 3 * s)]
        draw.polygon(pts, fill=_DARK + (255,))
        shrink = [(size / 2, 5 * s), (size - 4.5 * s, size - 5 * s), (4.5 * s, size - 5 * s)]
        draw.polygon(shrink, fill=rgb + (255,))
        if not filled:
            hole = [(size / 2, 9.5 * s), (size - 8 * s, size - 7 * s), (8 * s, size - 7 * s)]
            draw.polygon(hole, fill=inner)
        glyph, centre = "!", (size / 2, size * 0.60)
    elif severity == 3:  # alarm: a square
        draw.rounded_rectangle([1 * s, 1 * s, size - 1 * s, size - 1 * s], radius=5 * s, fill=_DARK + (255,))
        draw.rounded_rectangle([1 * s + border, 1 * s + border, size - 1 * s - border, size - 1 * s - border],
                               radius=4 * s, fill=rgb + (255,))
        if not filled:
            draw.rounded_rectangle([6 * s, 6 * s, size - 6 * s, size - 6 * s], radius=2 * s, fill=inner)
        glyph, centre = "!", (size / 2, size / 2)
    else:  # info: a circle
        draw.ellipse([1 * s, 1 * s, size - 1 * s, size - 1 * s], fill=_DARK + (255,))
        draw.ellipse([1 * s + border, 1 * s + border, size - 1 * s - border, size - 1 * s - border], fill=rgb + (255,))
        if not filled:
            draw.ellipse([6 * s, 6 * s, size - 6 * s, size - 6 * s], fill=inner)
        glyph, centre = "i", (size / 2, size / 2)
    ink = (_DARK if severity == 2 else (255, 255, 255)) if filled else rgb
    font = ImageFont.truetype(str(_BOLD), int((17 if severity != 2 else 15) * s))
    draw.text(centre, glyph, font=font, fill=ink + (255,), anchor="mm")
    return _done(image, BADGE_PX)


def _halo(rgb: tuple) -> np.ndarray:
    """A soft ring of the severity colour around the badge: the 'not acknowledged' pulse."""
    yy, xx = np.mgrid[0:HALO_PX, 0:HALO_PX] + 0.5
    r = np.hypot(xx - HALO_PX / 2, yy - HALO_PX / 2)
    alpha = np.clip(1 - np.abs(r - (HALO_PX / 2 - 5)) / 5, 0, 1) * 230
    out = np.zeros((HALO_PX, HALO_PX, 4), dtype=np.uint8)
    out[..., :3], out[..., 3] = rgb, alpha.astype(np.uint8)
    return out


def _ring() -> np.ndarray:
    """A dashed white ring around a badge whose part is covered: 'behind'."""
    s = 4
    image, draw = _canvas(RING_PX, s)
    box = [2 * s, 2 * s, RING_PX * s - 2 * s, RING_PX * s - 2 * s]
    for start in range(0, 360, 30):
        draw.arc(box, start, start + 17, fill=(*_DARK, 255), width=5 * s)
        draw.arc(box, start, start + 17, fill=(255, 255, 255, 255), width=3 * s)
    return _done(image, RING_PX)


def _dot(rgb: tuple, filled: bool) -> np.ndarray:
    """The leader's anchor on the part: a dot when the part is in view, a ring when covered."""
    s = 4
    image, draw = _canvas(DOT_PX, s)
    draw.ellipse([0, 0, DOT_PX * s - 1, DOT_PX * s - 1], fill=_DARK + (255,))
    draw.ellipse([1.5 * s, 1.5 * s, (DOT_PX - 1.5) * s, (DOT_PX - 1.5) * s], fill=rgb + (255,))
    if not filled:
        draw.ellipse([3.5 * s, 3.5 * s, (DOT_PX - 3.5) * s, (DOT_PX - 3.5) * s], fill=_DARK + (255,))
    return _done(image, DOT_PX)


class BadgeLayer:
    """Every alarm badge of a scene, in one textured 2D actor over the machine.

    Parameters
    ----------
    plotter : pyvista.Plotter
        The window.
    """

    def __init__(self, plotter):
        sheet, self._cells = atlas()
        self._height, self._width = sheet.shape[:2]
        self.top = TopLayer(plotter, self._frame)
        self.keys: list = []
        self.boxes = np.zeros((0, 2, 3))
        self.points = np.zeros((0, 1, 3))
        self.tolerance = np.zeros(0)
        self.severity = np.zeros(0, dtype=np.int64)
        self.acked = np.zeros(0, dtype=bool)
        self.hidden = np.zeros(0, dtype=bool)  # per badge: its part was covered in the last frame
        self.centres = np.zeros((0, 2))  # per badge: its centre on screen in the last frame (origin bottom left)
        self._nearest = None  # per badge: the surface point its leader ended on in the last frame
        self.blinking = True
        self.phase = True  # the blink: halos of unacknowledged badges shown or not

        image = vtk.vtkImageData()
        image.SetDimensions(self._width, self._height, 1)
        flipped = np.ascontiguousarray(sheet[::-1]).reshape(-1, 4)  # VTK rows go up
        image.GetPointData().SetScalars(numpy_to_vtk(flipped, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
        texture = vtk.vtkTexture()
        texture.SetInputData(image)
        texture.InterpolateOff()  # quads are pixel-aligned: nearest sampling keeps icons crisp
        self.polydata = vtk.vtkPolyData()
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.polydata)
        mapper.ScalarVisibilityOff()
        self.actor = vtk.vtkTexturedActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(texture)
        self.actor.SetPickable(False)
        self.top.renderer.AddViewProp(self.actor)
        # Texture corners of every cell, looked up by severity (and variant) each frame.
        levels = range(max(SEVERITY_RGB) + 1)
        cell = self._cells
        first = next(iter(cell))
        self._uv_badge = np.stack([self._uv([cell.get(("badge", s, f), cell[first]) for f in (False, True)])
                                   for s in levels])  # [severity, filled]
        self._uv_dot = np.stack([self._uv([cell.get(("dot", s, f), cell[first]) for f in (False, True)])
                                 for s in levels])  # [severity, filled]
        self._uv_halo = self._uv([cell.get(("halo", s), cell[first]) for s in levels])
        self._uv_leader = self._uv([cell.get(("leader", s), cell[first]) for s in levels])
        self._uv_ring = self._uv([cell[("ring",)]])[0]
        self._allocate(0)

    def close(self) -> None:
        """Remove the actor and the top layer from the window."""
        self.top.renderer.RemoveViewProp(self.actor)
        self.top.close()

    def set(self, keys: list, boxes: np.ndarray, points: np.ndarray, tolerance, severity, acked) -> None:
        """Show exactly these badges (a call per change of the alarms, not per frame).

        Parameters
        ----------
        keys : list
            What each badge is for (part names, say); later ones draw over earlier ones.
        boxes : numpy.ndarray
            ``(n, 2, 3)`` world bounds of each part: the badge sits beside the box.
        points : numpy.ndarray
            ``(n, k, 3)`` world points on each part's surface: the part is hidden when the
            frame covers all of them, else the leader starts at the one seen nearest the
            box's centre.
        tolerance : array_like
            ``(n,)`` depth tolerance of each part, see :meth:`overlays.ontop.TopLayer.covered`.
        severity : array_like of int
            1 info, 2 warning, 3 alarm.
        acked : array_like of bool
            Acknowledged (outlined, no halo) or not (filled, halo).
        """
        self.keys = list(keys)
        self.boxes = np.asarray(boxes, dtype=float).reshape(-1, 2, 3)
        self.points = np.asarray(points, dtype=float).reshape(len(self.boxes), -1, 3) if len(self.boxes) \
            else np.zeros((0, 1, 3))
        self.tolerance = np.asarray(tolerance, dtype=float).reshape(-1)
        self.severity = np.asarray(severity, dtype=np.int64).reshape(-1)
        self.acked = np.asarray(acked, dtype=bool).reshape(-1)
        self.hidden = np.zeros(len(self.keys), dtype=bool)
        self.centres = np.full((len(self.keys), 2), np.nan)
        self._nearest = None  # per badge: the surface point its leader ended on in the last frame
        self._allocate(len(self.keys))

    def move(self, rows, boxes: np.ndarray, points: np.ndarray) -> None:
        """New world bounds and surface points for badges ``rows`` (their parts moved)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.boxes[rows], self.points[rows] = boxes, points

    def screen_places(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the next frame will draw each badge, asked before it renders (labels keep
        clear of them).

        Returns
        -------
        boxes : numpy.ndarray
            ``(n, 4)`` ``x0, y0, x1, y1`` of each badge (with its halo) in the renderer's
            pixels (origin bottom left), NaN for a badge not shown.
        anchors : numpy.ndarray
            ``(n, 2)`` where each badge's leader starts on its part (the same pixels).

        Notes
        -----
        Which surface point a leader starts at is the last frame's (it needs that frame's
        depth), so a badge whose part just came into view may land a few pixels off for a frame.
        """
        n = len(self.keys)
        if not n or self.top.main.GetSize()[0] == 0:
            return np.zeros((0, 4)), np.zeros((0, 2))
        width, height = self.top.main.GetSize()
        origin = np.array(self.top.main.GetOrigin())
        lo, hi = self.boxes[:, 0], self.boxes[:, 1]
        corners = np.stack([np.where(np.array(m, bool), hi, lo) for m in np.ndindex(2, 2, 2)], axis=1)
        xy, front = self.top.project(corners.reshape(-1, 3))
        xy, front = xy.reshape(n, 8, 2) - origin, front.reshape(n, 8)
        centre, centre_front = self.top.project(self.boxes.mean(axis=1))
        centre = centre - origin
        k = self.points.shape[1]
        seen_xy = self.top.project(self.points.reshape(-1, 3))[0].reshape(n, k, 2) - origin
        nearest = self._nearest if self._nearest is not None else \
            np.linalg.norm(seen_xy - centre[:, None], axis=2).argmin(axis=1)
        anchor = np.where(self.hidden[:, None], centre, seen_xy[np.arange(n), nearest])
        badge = _beside(xy, anchor, width, height)
        half = HALO_PX / 2 if not self.acked.all() else BADGE_PX / 2
        shown = (centre_front & front.all(axis=1))[:, None]
        return np.where(shown, np.c_[badge - half, badge + half], np.nan), np.where(shown, anchor, np.nan)

    def blink(self, on: bool) -> bool:
        """Set the blink phase; True if that changes what is drawn (a render is due)."""
        changed = on != self.phase and self.blinking and not self.acked.all()
        self.phase = on
        return bool(changed)

    def _allocate(self, n: int) -> None:
        """Points, texture coordinates and triangles for ``n`` badges."""
        quads = n * _QUADS
        self._points = np.zeros((quads * 4, 3), dtype=np.float32)
        self._tcoords = np.zeros((quads * 4, 2), dtype=np.float32)
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(self._points, deep=False))
        corners = np.arange(quads * 4).reshape(quads, 4)
        tris = np.concatenate([corners[:, [0, 1, 2]], corners[:, [0, 2, 3]]], axis=1).reshape(-1, 3)
        cells = vtk.vtkCellArray()
        cells.SetData(numpy_to_vtk(np.arange(0, tris.size + 1, 3), deep=True, array_type=vtk.VTK_ID_TYPE),
                      numpy_to_vtk(tris.ravel(), deep=True, array_type=vtk.VTK_ID_TYPE))
        tcoords = numpy_to_vtk(self._tcoords, deep=False)
        tcoords.SetName("tcoords")
        self.polydata.SetPoints(points)
        self.polydata.SetPolys(cells)
        self.polydata.GetPointData().SetTCoords(tcoords)
        self._vtk_points, self._vtk_tcoords = points, tcoords

    def _uv(self, cells: list) -> np.ndarray:
        """Texture corners ``(n, 4, 2)`` of atlas cells, in quad corner order."""
        cells = np.array(cells, dtype=float)
        u0, u1 = cells[:, 0] / self._width, (cells[:, 0] + cells[:, 2]) / self._width
        v1 = 1 - cells[:, 1] / self._height
        v0 = v1 - cells[:, 3] / self._height
        return _quad(u0, v0, u1, v1)

    def _frame(self, top: TopLayer) -> None:
        """Between the machine and the top layer: place every badge for this frame."""
        n = len(self.keys)
        if not n:
            return
        width, height = top.main.GetSize()
        x0, y0 = top.main.GetOrigin()
        lo, hi = self.boxes[:, 0], self.boxes[:, 1]
        corners = np.stack([np.where(np.array(m, bool), hi, lo) for m in np.ndindex(2, 2, 2)], axis=1)
        xy, front = top.project(corners.reshape(-1, 3))
        xy, front = xy.reshape(n, 8, 2) - (x0, y0), front.reshape(n, 8)
        anchor, anchor_front = top.project(self.boxes.mean(axis=1))
        anchor = anchor - (x0, y0)
        k = self.points.shape[1]
        seen_xy, _ = top.project(self.points.reshape(-1, 3))
        seen_xy = seen_xy.reshape(n, k, 2) - (x0, y0)
        seen = ~top.covered(self.points.reshape(-1, 3), np.repeat(self.tolerance, k)).reshape(n, k)
        self.hidden = ~seen.any(axis=1)
        # A part in view: the leader ends on it, at the point seen nearest its centre.
        gap = np.where(seen, np.linalg.norm(seen_xy - anchor[:, None], axis=2), np.inf)
        self._nearest = gap.argmin(axis=1)
        nearest = seen_xy[np.arange(n), self._nearest]
        anchor = np.where(self.hidden[:, None], anchor, nearest)
        shown = anchor_front & front.all(axis=1)
        badge = _beside(xy, anchor, width, height)
        anchor = np.rint(anchor)
        self.centres = np.where(shown[:, None], badge + (x0, y0), np.nan)

        points = np.zeros((n, _QUADS, 4, 2))
        # Leader: _DASHES quads from the anchor to the badge; a covered part's are dashed.
        t = np.arange(_DASHES) / _DASHES
        length = np.where(self.hidden, 0.55, 1.0)[:, None] / _DASHES
        ends = [anchor[:, None] + (badge - anchor)[:, None] * f[..., None] for f in (t[None], t[None] + length)]
        along = badge - anchor
        normal = np.c_[-along[:, 1], along[:, 0]] / np.maximum(np.linalg.norm(along, axis=1), 1e-9)[:, None]
        half = normal[:, None] * (LEADER_PX / 2)
        points[:, _LEADER] = np.stack([ends[0] - half, ends[1] - half, ends[1] + half, ends[0] + half], axis=2)
        halo = ~self.acked & (self.phase | ~self.blinking)
        for quad, size, at, show in ((_DOT, DOT_PX, anchor, True), (_HALO, HALO_PX, badge, halo),
                                     (_RING, RING_PX, badge, self.hidden), (_BADGE, BADGE_PX, badge, True)):
            corner = at - size // 2
            square = _quad(corner[:, 0], corner[:, 1], corner[:, 0] + size, corner[:, 1] + size)
            points[:, quad] = np.where(np.broadcast_to(show, (n,))[:, None, None], square, -1e4)
        points[~shown] = -1e4  # a part behind the camera: no badge
        self._points[:, :2] = points.reshape(-1, 2)

        uv = np.empty((n, _QUADS, 4, 2))
        sev = self.severity
        uv[:, _LEADER] = self._uv_leader[sev][:, None]
        uv[:, _DOT] = self._uv_dot[sev, (~self.hidden).astype(np.int64)]
        uv[:, _HALO] = self._uv_halo[sev]
        uv[:, _RING] = self._uv_ring
        uv[:, _BADGE] = self._uv_badge[sev, (~self.acked).astype(np.int64)]
        self._tcoords[:] = uv.reshape(-1, 2)
        self._vtk_points.Modified()
        self._vtk_tcoords.Modified()
        self.polydata.Modified()


def _beside(xy: np.ndarray, anchor: np.ndarray, width: int, height: int) -> np.ndarray:
    """Badge centres beside each part's projected box ``xy`` ``(n, 8, 2)`` (up and to the
    right), within reach of the leader's ``anchor``, and always whole on screen."""
    right = np.minimum(xy[..., 0].max(axis=1), anchor[:, 0] + _REACH[0]) + _GAP[0]
    up = np.minimum(xy[..., 1].max(axis=1), anchor[:, 1] + _REACH[1]) + _GAP[1]
    margin = HALO_PX / 2
    return np.rint(np.c_[np.clip(right, margin, width - margin), np.clip(up, margin, height - margin)])


def _quad(x0, y0, x1, y1) -> np.ndarray:
    """Corners (..., 4, 2) of axis-aligned quads, counter-clockwise from bottom left."""
    x0, y0, x1, y1 = np.broadcast_arrays(*(np.asarray(v, float) for v in (x0, y0, x1, y1)))
    return np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                     np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=-2)
