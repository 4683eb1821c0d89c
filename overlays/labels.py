"""One VTK actor that draws every label (the texts come from :mod:`overlays.label_rule`).

VTK's label placement mapper renders each label's text anew on every frame (measured:
280 ms per frame for 1,000 labels on software GL). Here every glyph is drawn once into
a texture atlas, and all labels are one 2D mesh of textured quads: a frame moves the
quads to the anchors' projected positions (one numpy expression), and a new text only
rewrites its label's quads. VTK gets only the quads that show, and only in a frame where
something moved.

Labels never cover each other or the alarm badges: each frame, :mod:`overlays.declutter`
places every box in screen space (again only when an anchor, a box or a badge moved), and a
label pushed away from its anchor gets a thin leader line back to it, ending in a dot. A
label with a severity (2 warning, 3 alarm) has a border and leader in the severity colour.

The atlas (:mod:`overlays.glyphs`) draws a character the first time a text has it, in
any script.
"""

from __future__ import annotations

import unicodedata
import weakref
from types import SimpleNamespace

import numpy as np
from overlays import vtk_classes as vtk
from vtkmodules.util.numpy_support import numpy_to_vtk

from overlays import declutter
from overlays.glyphs import DOT_PX, GlyphAtlas
from overlays.ontop import TopLayer
from overlays.palette import SEVERITY_RGB

#: Label layers not closed yet (a leak check for tests: a closed scene leaves none).
OPEN_LAYERS: weakref.WeakSet = weakref.WeakSet()
_PAD_X, _PAD_Y, _LIFT = 5, 3, 6  # box padding and gap above the anchor, in pixels
_BORDER = 2  # pixels of severity colour around a box
_OFF = -1e4  # where hidden quads go


class LabelLayer:
    """All labels of a scene in one textured 2D actor, updated in place.

    Parameters
    ----------
    renderer : pyvista.Renderer
        Where the labels are drawn.
    count : int
        Number of labels.
    font_size : int
        Text size in pixels.
    max_chars : int
        Longest text shown; longer ones end in an ellipsis.

    Attributes
    ----------
    obstacles : callable or None
        Asked before every render, returns what labels keep clear of on screen (the alarm
        badges): ``(m, 4)`` boxes ``x0, y0, x1, y1`` that no label may overlap and ``(k, 4)``
        lines ``x0, y0, x1, y1`` that labels avoid covering if they can (the renderer's
        pixels, origin bottom left).
    boxes : numpy.ndarray
        ``(count, 4)`` each label's box on screen in the last frame (the same pixels;
        NaN: not drawn).
    """

    def __init__(self, renderer, count: int, font_size: int = 15, max_chars: int = 40):
        self.renderer, self.count, self.max_chars = renderer, count, max_chars
        self.atlas = GlyphAtlas(font_size)
        self.anchors = np.zeros((count, 3))
        self.severity = np.zeros(count, dtype=np.int64)
        self.obstacles = None
        self.boxes = np.full((count, 4), np.nan)
        self._texts = [""] * count
        # Quads: every leader, dot and border (under all boxes), then per label its box and
        # its glyphs.
        self._first = 3 * count
        per_label = 1 + max_chars
        quads = self._first + count * per_label
        self._offsets = np.zeros((count * per_label, 4, 2))  # box and glyph corners relative to the anchor
        self._border = np.zeros((count, 4, 2))  # border corners relative to the anchor
        self._tcoords = np.zeros((quads, 4, 2), dtype=np.float32)
        self._cells = np.full((count, max_chars), -1)  # atlas cell of each glyph quad, -1 unused
        self._home = np.full((count, 4), np.nan)  # each box at home, relative to its anchor (NaN: no text)
        self._shifts = np.zeros((count, 1, 2))  # from home to each candidate place
        self._choice = np.full(count, -1)  # the candidate each label took, -1 hidden
        self._placed_for = None  # what the last placement was computed from
        self._resized = set()  # labels whose box changed since
        self._redraw = True  # quads changed since the last frame (else nothing is uploaded again)

        self._points = np.zeros((quads * 4, 3), dtype=np.float32)
        self.polydata = vtk.vtkPolyData()  # the quads that show, out of all of the above (see _upload)
        self._mark_coords()

        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.polydata)
        mapper.ScalarVisibilityOff()
        self.actor = vtk.vtkTexturedActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(self.atlas.texture())
        self.actor.SetPickable(False)
        # In a layer of their own over the machine: 2D quads write depth, and the depth that
        # badges and x-ray read must be the machine's (a part under a label is not covered).
        self._top = TopLayer(SimpleNamespace(renderer=renderer, ren_win=renderer.GetRenderWindow()))
        self._top.renderer.AddViewProp(self.actor)
        # Quads follow the anchors on every render, whatever moved the camera.
        self._observer = renderer.AddObserver("StartEvent", lambda *_: self._place())
        OPEN_LAYERS.add(self)

    def close(self) -> None:
        """Remove the actor and the render observer from the renderer."""
        if self._observer is not None:
            self.renderer.RemoveObserver(self._observer)
            self._top.renderer.RemoveViewProp(self.actor)
            self._top.close()
            self._observer = None
        self.obstacles = None
        OPEN_LAYERS.discard(self)

    def set(self, i: int, position, text: str) -> None:
        """Place label ``i`` at a world ``position`` with ``text``."""
        self.set_many([i], np.asarray(position, dtype=float)[None], [text])

    def set_many(self, indices, positions, texts) -> None:
        """Place several labels at once (``positions``: n x 3 world); texts that did
        not change cost nothing."""
        indices = np.asarray(indices, dtype=np.int64)
        self.anchors[indices] = positions
        changed = [(i, t) for i, t in zip(indices.tolist(), texts) if t != self._texts[i]]
        if changed:
            for i, t in changed:
                self._texts[i] = t
            self._layout(np.array([i for i, _ in changed]), [t for _, t in changed])

    def set_severity(self, indices, severities) -> None:
        """Severity of labels ``indices`` (0 none, 1 info, 2 warning, 3 alarm): a border and
        leader in the severity colour (see :data:`overlays.palette.SEVERITY_RGB`), and the
        first pick of a place (worst first)."""
        self.severity[np.asarray(indices, dtype=np.int64)] = severities
        self._mark_coords()
        self._placed_for = None

    def text(self, i: int) -> str:
        """Current text of label ``i``."""
        return self._texts[i]

    def _layout(self, labels: np.ndarray, texts: list[str]) -> None:
        """Border, box and glyph quads of ``labels``, relative to their anchors, all at once."""
        atlas, cap = self.atlas, self.max_chars
        texts = [unicodedata.normalize("NFC", t) for t in texts]  # "e" + accent: one glyph, "é"
        texts = [t if len(t) <= cap else t[: cap - 1] + "…" for t in texts]
        codes = np.array([t.ljust(cap, "\0") for t in texts], dtype=f"<U{cap}").view(np.uint32).reshape(-1, cap)
        rows = atlas.image.shape[0]
        cells = atlas.cells_of(codes)  # n x cap, -1 past the end of each text
        used = cells >= 0
        advance = np.where(used, atlas.advance[cells], 0.0)
        x = np.cumsum(advance, axis=1) - advance  # left edge of each glyph
        width = advance.sum(axis=1)
        left = -np.round(width / 2)
        x0 = left[:, None] + np.round(x) - 1
        x1 = x0 + np.where(used, atlas.span[cells], 0)
        y0, y1 = _LIFT + _PAD_Y, _LIFT + _PAD_Y + atlas.height
        offsets = self._offsets.reshape(self.count, 1 + cap, 4, 2)
        offsets[labels, 1:] = np.where(used[..., None, None], _quad(x0, y0, x1, y1), 0.0)
        has_text = used.any(axis=1)
        home = np.c_[left - _PAD_X, np.full(len(labels), _LIFT), left + width + _PAD_X,
                     np.full(len(labels), y1 + _PAD_Y)]
        offsets[labels, 0] = np.where(has_text[:, None, None], _quad(*home.T), 0.0)
        b = _BORDER
        self._border[labels] = np.where(has_text[:, None, None], _quad(*(home + (-b, -b, b, b)).T), 0.0)
        if (np.isnan(self._home[labels, 0]) == has_text).any():  # a box came or went: place anew
            self._placed_for = None
        self._home[labels] = np.where(has_text[:, None], home, np.nan)  # no text: no box to place
        self._resized.update(labels.tolist())
        self._redraw = True
        shifts = declutter.candidate_shifts(np.nan_to_num(home), _LIFT)
        if self._shifts.shape[1] != shifts.shape[1]:
            self._shifts = np.zeros((self.count, *shifts.shape[1:]))
        self._shifts[labels] = shifts
        self._cells[labels] = cells
        # A new atlas row moves every texture coordinate (they are relative to its height).
        if atlas.image.shape[0] != rows:
            self._texture_coords(slice(None))
            self._mark_coords()
        else:
            self._texture_coords(labels)

    def _texture_coords(self, labels) -> None:
        """Texture coordinates of the box and glyph quads of ``labels`` from their cells."""
        atlas, cells = self.atlas, self._cells[labels]
        height, width = atlas.image.shape[:2]
        u0, u1 = atlas.left[cells] / width, (atlas.left[cells] + atlas.span[cells]) / width
        v1 = 1 - atlas.top[cells] / height  # VTK's rows go up
        v0 = v1 - atlas.height / height
        tcoords = self._tcoords[self._first:].reshape(self.count, 1 + self.max_chars, 4, 2)
        tcoords[labels, 1:] = np.where((cells >= 0)[..., None, None], _quad(u0, v0, u1, v1), 0.0)
        box = atlas.box  # any texel inside its cell: the box colour is uniform
        tcoords[labels, 0] = ((atlas.left[box] + 3) / width, 1 - (atlas.top[box] + atlas.height / 2) / height)
        self._redraw = True

    def _mark_coords(self) -> None:
        """Texture coordinates of every label's border, leader and dot, by its severity."""
        height, width = self.atlas.image.shape[:2]
        n, levels = self.count, range(max(SEVERITY_RGB) + 1)
        severity = np.clip(self.severity, 0, levels[-1])

        def cell(kind, s):
            return self.atlas.marks.get((kind, s), self.atlas.marks[kind, 0])

        # A leader's quad runs from the anchor (corners 0, 3) to the box (1, 2): across it,
        # u goes over the strip's three texels (dark, light, dark).
        strips = np.array([cell("leader", s) for s in levels], dtype=float)[severity]
        self._tcoords[:n, :, 1] = (1 - (strips[:, 1] + self.atlas.height / 2) / height)[:, None]
        self._tcoords[:n, [0, 1], 0] = (strips[:, :1] / width)
        self._tcoords[:n, [2, 3], 0] = ((strips[:, :1] + 3) / width)
        dots = np.array([cell("dot", s) for s in levels], dtype=float)[severity]
        u0, u1 = dots[:, 0] / width, (dots[:, 0] + dots[:, 2]) / width
        v1 = 1 - dots[:, 1] / height
        self._tcoords[n:2 * n] = _quad(u0, v1 - dots[:, 2] / height, u1, v1)
        border = np.array([cell("border", s) for s in levels], dtype=float)[severity]
        texel = np.c_[(border[:, 0] + 0.5) / width, 1 - (border[:, 1] + self.atlas.height / 2) / height]
        self._tcoords[2 * n:3 * n] = texel[:, None, :]
        self._redraw = True

    def _place(self) -> None:
        """Move every quad to its place on screen (runs before each render): labels at their
        anchors' projections, decluttered, pushed ones with a leader."""
        if not self.count:
            return
        width, height = self.renderer.GetSize()
        if not width or not height:
            return
        camera = self.renderer.GetActiveCamera()
        m = vtk_to_numpy_matrix(camera.GetCompositeProjectionTransformMatrix(width / height, -1, 1))
        clip = np.c_[self.anchors, np.ones(self.count)] @ m.T
        visible = clip[:, 3] > 1e-9  # in front of the camera
        w = np.where(visible, clip[:, 3], 1.0)
        xy = np.empty((self.count, 2))
        xy[:, 0] = np.round((clip[:, 0] / w + 1) * width / 2)
        xy[:, 1] = np.round((clip[:, 1] / w + 1) * height / 2)
        xy[~visible] = np.nan
        boxes, lines = (np.zeros((0, 4)),) * 2 if self.obstacles is None else self.obstacles()
        key = (width, height, xy, boxes, lines)
        same = self._placed_for is not None and all(np.array_equal(a, b, equal_nan=True)
                                                    for a, b in zip(key, self._placed_for))
        if same and not self._redraw:
            return  # the quads are where they were: uploading them again costs more than drawing them
        if not (same and self._still_fits(xy, boxes, (width, height))):
            order = np.lexsort((np.arange(self.count), -self.severity))  # worst first, then in order
            anchors = np.where(np.isnan(self._home[:, :1]), np.nan, xy)
            self._choice = declutter.place(anchors, np.nan_to_num(self._home), self._shifts, order,
                                           (width, height), boxes, lines, self._choice)
            self._placed_for = key
        self._resized.clear()
        shown = self._choice >= 0
        shift = self._shifts[np.arange(self.count), np.maximum(self._choice, 0)]
        at = np.where(shown[:, None], xy + shift, _OFF)
        self.boxes = np.where(shown[:, None], np.tile(at, 2) + self._home, np.nan)
        n = self.count
        self._points[self._first * 4:, :2] = (at[:, None, None, :] + self._offsets.reshape(n, -1, 4, 2)).reshape(-1, 2)
        border = np.where((self.severity > 0)[:, None, None], at[:, None, :] + self._border, _OFF)  # severity only
        self._points[8 * n:12 * n, :2] = border.reshape(-1, 2)
        # Leaders and dots of pushed labels: from the anchor to the nearest point of the box.
        pushed = self._choice > 0
        start = np.where(pushed[:, None], xy, _OFF)
        end = np.where(pushed[:, None], declutter.leader_ends(np.nan_to_num(xy), np.nan_to_num(self.boxes)), _OFF)
        along = end - start
        normal = np.c_[-along[:, 1], along[:, 0]] / np.maximum(np.linalg.norm(along, axis=1), 1e-9)[:, None]
        half = normal * 1.5  # three texels wide: dark, light, dark
        self._points[:4 * n, :2] = np.stack([start - half, end - half, end + half, start + half], axis=1).reshape(-1, 2)
        r = DOT_PX / 2
        self._points[4 * n:8 * n, :2] = _quad(start[:, 0] - r, start[:, 1] - r, start[:, 0] + r,
                                             start[:, 1] + r).reshape(-1, 2)
        self._upload()

    def _upload(self) -> None:
        """Give VTK the quads that show, in drawing order. Hidden labels and unused glyph
        slots are left out: drawn off screen or empty they would still cost the rasteriser
        about as much as shown ones (measured: 44,000 quads for 1,000 labels of which 180
        showed took 5.6 ms a frame on software GL)."""
        quads = self._points.reshape(-1, 4, 3)
        shows = (quads[:, :, 0].max(axis=1) > _OFF / 2) & (quads[:, 0, :2] != quads[:, 2, :2]).any(axis=1)
        corners = (4 * np.flatnonzero(shows)[:, None] + np.arange(4)).ravel()
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(self._points[corners], deep=True))
        self.polydata.SetPoints(points)
        tcoords = numpy_to_vtk(self._tcoords.reshape(-1, 2)[corners], deep=True)
        tcoords.SetName("tcoords")
        self.polydata.GetPointData().SetTCoords(tcoords)
        local = np.arange(len(corners)).reshape(-1, 4)
        tris = np.concatenate([local[:, [0, 1, 2]], local[:, [0, 2, 3]]], axis=1).ravel()
        cells = vtk.vtkCellArray()
        cells.SetData(numpy_to_vtk(np.arange(0, tris.size + 1, 3), deep=True, array_type=vtk.VTK_ID_TYPE),
                      numpy_to_vtk(tris, deep=True, array_type=vtk.VTK_ID_TYPE))
        self.polydata.SetPolys(cells)
        self.polydata.Modified()
        self._redraw = False

    def _still_fits(self, xy: np.ndarray, obstacles: np.ndarray, size) -> bool:
        """Nothing moved, but texts may have changed width: do the shown labels whose boxes
        changed still fit where they are? (Then every label stays put: a new value does not
        make its neighbours hop; a hidden label waits for the next placement.)"""
        resized = np.array(sorted(self._resized), dtype=np.int64)
        resized = resized[self._choice[resized] >= 0]
        if not len(resized):
            return True
        shown = np.flatnonzero(self._choice >= 0)
        at = xy[shown] + self._shifts[shown, self._choice[shown]]
        placed = np.tile(at, 2) + self._home[shown]
        mine = placed[np.searchsorted(shown, resized)]
        others = np.r_[placed, obstacles[~np.isnan(obstacles).any(axis=1)]]
        overlaps = declutter.overlaps(mine, others)
        overlaps[np.arange(len(mine)), np.searchsorted(shown, resized)] = False  # itself
        width, height = size
        on_screen = (mine[:, :2] >= 0).all() and (mine[:, 2] <= width).all() and (mine[:, 3] <= height).all()
        return bool(on_screen and not overlaps.any())


def _quad(x0, y0, x1, y1) -> np.ndarray:
    """Corners (..., 4, 2) of axis-aligned quads, counter-clockwise from bottom left."""
    x0, y0, x1, y1 = np.broadcast_arrays(*(np.asarray(v, float) for v in (x0, y0, x1, y1)))
    return np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                     np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=-2)


def vtk_to_numpy_matrix(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    """A vtkMatrix4x4 as a 4x4 numpy array."""
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
