"""One VTK actor that draws every label (the texts come from :mod:`overlays.label_rule`).

VTK's label placement mapper renders each label's text anew on every frame (measured:
280 ms per frame for 1,000 labels on software GL). Here every glyph is drawn once into
a texture atlas, and all labels are one 2D mesh of textured quads: a frame moves the
quads to the anchors' projected positions (one numpy expression), and a new text only
rewrites its label's quads.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import matplotlib
import numpy as np
import vtk
from PIL import Image, ImageDraw, ImageFont
from vtkmodules.util.numpy_support import numpy_to_vtk

#: Label layers not closed yet (a leak check for tests: a closed scene leaves none).
OPEN_LAYERS: weakref.WeakSet = weakref.WeakSet()
_CHARSET = "".join(chr(c) for c in range(32, 127)) + "°²³µ·±—…ΩΔ×÷≤≥←→"
_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
_TEXT_RGBA = (255, 255, 255)
_BOX_RGBA = (31, 36, 46, 220)
_PAD_X, _PAD_Y, _LIFT = 5, 3, 6  # box padding and gap above the anchor, in pixels


class GlyphAtlas:
    """Every glyph of :data:`_CHARSET` drawn once, side by side, in one RGBA image.

    The last cell is a block of the label box colour, used for the backgrounds.
    """

    def __init__(self, size: int):
        font = ImageFont.truetype(str(_FONT), size)
        ascent, descent = font.getmetrics()
        self.height = ascent + descent
        self.advance = np.array([font.getlength(c) for c in _CHARSET] + [4.0])
        widths = np.ceil(self.advance).astype(int) + 2
        self.left = np.concatenate([[0], np.cumsum(widths)[:-1]])
        self.width = int(self.left[-1] + widths[-1])
        image = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        for i, char in enumerate(_CHARSET):
            draw.text((int(self.left[i]) + 1, 0), char, font=font, fill=(*_TEXT_RGBA, 255))
        box = len(_CHARSET)
        draw.rectangle([int(self.left[box]), 0, self.width - 1, self.height - 1], fill=_BOX_RGBA)
        self.image = np.asarray(image)
        self.index = {c: i for i, c in enumerate(_CHARSET)}
        self._by_code = np.full(max(map(ord, _CHARSET)) + 1, self.index["?"], dtype=np.int64)
        self._by_code[[ord(c) for c in _CHARSET]] = np.arange(len(_CHARSET))
        self.box = box

    def texture(self) -> vtk.vtkTexture:
        """The atlas as a VTK texture (nearest sampling keeps text crisp)."""
        data = vtk.vtkImageData()
        data.SetDimensions(self.width, self.height, 1)
        flipped = np.ascontiguousarray(self.image[::-1]).reshape(-1, 4)  # VTK rows go up
        data.GetPointData().SetScalars(numpy_to_vtk(flipped, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
        texture = vtk.vtkTexture()
        texture.SetInputData(data)
        texture.InterpolateOff()
        return texture

    def cells_of(self, codes: np.ndarray) -> np.ndarray:
        """Atlas cells of an array of code points: -1 for NUL (padding), the cell of
        ``?`` for characters the atlas does not have."""
        cells = np.full(codes.shape, self.index["?"], dtype=np.int64)
        known = codes < len(self._by_code)
        cells[known] = self._by_code[codes[known]]
        cells[codes == 0] = -1
        return cells


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
    """

    def __init__(self, renderer, count: int, font_size: int = 15, max_chars: int = 40):
        self.renderer, self.count, self.max_chars = renderer, count, max_chars
        self.atlas = GlyphAtlas(font_size)
        self.anchors = np.zeros((count, 3))
        self._texts = [""] * count
        per_label = 1 + max_chars  # its box, then its glyphs: a later label covers an earlier one
        quads = count * per_label
        self._offsets = np.zeros((quads, 4, 2))  # corners relative to the label's anchor, pixels
        self._label_of_quad = np.repeat(np.arange(count), per_label)
        self._tcoords = np.zeros((quads, 4, 2), dtype=np.float32)

        self.polydata = vtk.vtkPolyData()
        self._points = np.zeros((quads * 4, 3), dtype=np.float32)
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(self._points, deep=False))
        self.polydata.SetPoints(points)
        corners = np.arange(quads * 4).reshape(quads, 4)
        tris = np.concatenate([corners[:, [0, 1, 2]], corners[:, [0, 2, 3]]], axis=1).reshape(-1, 3)
        cells = vtk.vtkCellArray()
        cells.SetData(numpy_to_vtk(np.arange(0, tris.size + 1, 3), deep=True, array_type=vtk.VTK_ID_TYPE),
                      numpy_to_vtk(tris.ravel(), deep=True, array_type=vtk.VTK_ID_TYPE))
        self.polydata.SetPolys(cells)
        tcoords = numpy_to_vtk(self._tcoords.reshape(-1, 2), deep=False)
        tcoords.SetName("tcoords")
        self.polydata.GetPointData().SetTCoords(tcoords)
        self._vtk_points, self._vtk_tcoords = points, tcoords

        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.polydata)
        mapper.ScalarVisibilityOff()
        self.actor = vtk.vtkTexturedActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(self.atlas.texture())
        self.actor.SetPickable(False)
        renderer.add_actor(self.actor, reset_camera=False, pickable=False, render=False)
        # Quads follow the anchors on every render, whatever moved the camera.
        self._observer = renderer.AddObserver("StartEvent", lambda *_: self._place())
        OPEN_LAYERS.add(self)

    def close(self) -> None:
        """Remove the actor and the render observer from the renderer."""
        if self._observer is not None:
            self.renderer.RemoveObserver(self._observer)
            self.renderer.remove_actor(self.actor, reset_camera=False, render=False)
            self._observer = None
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

    def text(self, i: int) -> str:
        """Current text of label ``i``."""
        return self._texts[i]

    def _layout(self, labels: np.ndarray, texts: list[str]) -> None:
        """Box and glyph quads of ``labels``, relative to their anchors, all at once."""
        atlas, cap = self.atlas, self.max_chars
        texts = [t if len(t) <= cap else t[: cap - 1] + "…" for t in texts]
        codes = np.array([t.ljust(cap, "\0") for t in texts], dtype=f"<U{cap}").view(np.uint32).reshape(-1, cap)
        cells = atlas.cells_of(codes)  # n x cap, -1 past the end of each text
        used = cells >= 0
        advance = np.where(used, atlas.advance[cells], 0.0)
        x = np.cumsum(advance, axis=1) - advance  # left edge of each glyph
        width = advance.sum(axis=1)
        left = -np.round(width / 2)
        x0 = left[:, None] + np.round(x) - 1
        x1 = x0 + np.where(used, np.ceil(advance) + 2, 0)
        y0, y1 = _LIFT + _PAD_Y, _LIFT + _PAD_Y + atlas.height
        boxes = labels * (1 + cap)
        glyphs = boxes[:, None] + 1 + np.arange(cap)
        u0 = atlas.left[cells] / atlas.width
        u1 = u0 + (x1 - x0) / atlas.width
        self._offsets[glyphs] = np.where(used[..., None, None], _quad(x0, y0, x1, y1), 0.0)
        self._tcoords[glyphs] = np.where(used[..., None, None], _quad(u0, 0.0, u1, 1.0), 0.0)
        has_text = used.any(axis=1)[:, None, None]
        box = _quad(left - _PAD_X, _LIFT, left + width + _PAD_X, y1 + _PAD_Y)
        self._offsets[boxes] = np.where(has_text, box, 0.0)
        self._tcoords[boxes] = (atlas.left[atlas.box] + 1) / atlas.width
        self._vtk_tcoords.Modified()

    def _place(self) -> None:
        """Move every quad to its anchor's position on screen (runs before each render)."""
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
        xy[~visible] = -1e4  # off screen
        where = xy[self._label_of_quad][:, None, :] + self._offsets
        self._points[:, :2] = where.reshape(-1, 2)
        self._vtk_points.Modified()
        self.polydata.Modified()


def _quad(x0, y0, x1, y1) -> np.ndarray:
    """Corners (..., 4, 2) of axis-aligned quads, counter-clockwise from bottom left."""
    x0, y0, x1, y1 = np.broadcast_arrays(*(np.asarray(v, float) for v in (x0, y0, x1, y1)))
    return np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                     np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=-2)


def vtk_to_numpy_matrix(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    """A vtkMatrix4x4 as a 4x4 numpy array."""
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])
