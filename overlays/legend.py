"""Colour legends: a designed panel per colour map, drawn as one textured 2D actor.

Each legend is a small panel in the lower left corner of the view: a title (the
binding's display name and its unit as people write it, "Bearing temperature (°C)"),
the colour bar, ticks at round numbers (1-2-5 steps) all with the same decimals, the
limits as amber and red marks on the bar, and a caret over the bar at each bound
value's current position.

VTK's ``vtkScalarBarActor`` is not used: it sizes itself as a fraction of the view (a
third of a small one), places its labels at evenly spaced values rather than round
ones, clips long titles, and has no place for limit marks or value markers. Here every
panel is drawn once with PIL at the exact pixel size (:mod:`overlays.legend_panel`) and
shown texel for texel through pixel-aligned quads with nearest sampling, so text is as crisp as the labels'. A new
value only moves its caret's quad (four points); nothing is laid out or drawn again
unless the view's size or the screen's DPI changes.

Sizes are pixels times the screen's scale (the render window's DPI / 72; Qt sets the
DPI from the screen's device pixel ratio), and shrink only when the view is too small
to hold the legends (they never take more than about a fifth of it).
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk

from overlays import vtk_classes as vtk
from overlays.colormap import ColourRule
from overlays.legend_panel import LegendSpec, Panel, draw_panel

_MARGIN = 10  # pixels between the legends and the view's edges, and between legends (x scale)
_MAX_SHARE = 0.2  # of the view's area the legends may cover
_MIN_SCALE = 0.7  # smaller text is not readable; a legend that does not fit then is not shown
_OFF = -1e4  # where hidden quads go


def lookup_table(rule: ColourRule) -> vtk.vtkLookupTable:
    """A VTK lookup table of the rule's map and range."""
    lut = vtk.vtkLookupTable()
    lut.SetNumberOfTableValues(len(rule.table))
    lut.SetTableRange(rule.low, rule.high)
    for i, (r, g, b) in enumerate(rule.table / 255.0):
        lut.SetTableValue(i, r, g, b, 1.0)
    lut.Build()
    return lut


class LegendLayer:
    """Every colour legend of a scene in one textured 2D actor, stacked up from the lower
    left corner (the first legend lowest).

    Panels are drawn when the view is first rendered and again only when its size or
    the screen's DPI changes; :meth:`set_values` only moves carets.

    Parameters
    ----------
    renderer : pyvista.Renderer
        Where the legends are drawn.
    legends : list of LegendSpec
        What each shows.
    scale : float, optional
        Size factor; default: the render window's DPI / 72 (1 on a plain screen, 2 on a
        screen Qt runs at twice the pixels).

    Attributes
    ----------
    panels : list of Panel
        Each legend as last drawn (empty before the first render).
    boxes : numpy.ndarray
        ``(n, 4)`` each panel's ``x0, y0, x1, y1`` in the renderer's pixels (origin bottom
        left, ends exclusive); NaN for a legend the view has no room for.
    """

    def __init__(self, renderer, legends: list[LegendSpec], scale: float | None = None):
        self.renderer, self.specs, self._scale = renderer, list(legends), scale
        self.values: list[list[float | None]] = [[None] * len(s.markers) for s in self.specs]
        self.panels: list[Panel] = []
        self.boxes = np.full((len(self.specs), 4), np.nan)
        self._first_marker = np.cumsum([len(self.specs)] + [len(s.markers) for s in self.specs])[:-1]
        quads = len(self.specs) + sum(len(s.markers) for s in self.specs)
        self._points = np.full((quads * 4, 3), _OFF, dtype=np.float32)
        self._points[:, 2] = 0.0
        self._tcoords = np.zeros((quads * 4, 2), dtype=np.float32)
        self._sprites: list[tuple[int, int, int, int]] = []  # per marker: left, top, w, h in the sheet
        self._laid_out_for = None

        self.polydata = vtk.vtkPolyData()
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(self._points, deep=False))
        self.polydata.SetPoints(points)
        corners = np.arange(quads * 4).reshape(quads, 4)
        tris = np.concatenate([corners[:, [0, 1, 2]], corners[:, [0, 2, 3]]], axis=1).reshape(-1, 3)
        cells = vtk.vtkCellArray()
        cells.SetData(numpy_to_vtk(np.arange(0, tris.size + 1, 3), deep=True, array_type=vtk.VTK_ID_TYPE),
                      numpy_to_vtk(tris.ravel(), deep=True, array_type=vtk.VTK_ID_TYPE))
        self.polydata.SetPolys(cells)
        tcoords = numpy_to_vtk(self._tcoords, deep=False)
        tcoords.SetName("tcoords")
        self.polydata.GetPointData().SetTCoords(tcoords)
        self._vtk_points, self._vtk_tcoords = points, tcoords
        self._sheet = vtk.vtkImageData()
        texture = vtk.vtkTexture()
        texture.SetInputData(self._sheet)
        texture.InterpolateOff()  # texel for pixel: crisp text
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.polydata)
        mapper.ScalarVisibilityOff()
        self.actor = vtk.vtkTexturedActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetTexture(texture)
        self.actor.SetPickable(False)
        renderer.add_actor(self.actor, reset_camera=False, pickable=False, render=False)
        # Laid out before each render, so a resized view or a moved window gets its size.
        self._observer = renderer.AddObserver("StartEvent", lambda *_: self.fit())

    def close(self) -> None:
        """Remove the actor and the render observer from the renderer."""
        if self._observer is not None:
            self.renderer.RemoveObserver(self._observer)
            self.renderer.remove_actor(self.actor, reset_camera=False, render=False)
            self._observer = None

    def set_visible(self, on: bool) -> None:
        """Show or hide every legend (the user's layer toggle)."""
        self.actor.SetVisibility(bool(on))

    @property
    def scale(self) -> float:
        """The size factor asked for (the screen's, unless one was given)."""
        return self._scale or self.renderer.GetRenderWindow().GetDPI() / 72.0

    def set_values(self, index: int, values) -> bool:
        """Move legend ``index``'s carets to ``values`` (one per marker, in the legend's
        unit; None hides a caret). Returns True if a caret moved."""
        values = [None if v is None or not np.isfinite(v) else float(v) for v in values]
        if values == self.values[index]:
            return False
        self.values[index] = values
        self._place_markers(index)
        return True

    def bar_box(self, index: int) -> tuple[float, float, float, float]:
        """Legend ``index``'s colour bar, ``x0, y0, x1, y1`` in the renderer's pixels."""
        x0, y0, _, y1 = self.boxes[index]
        left, top, right, bottom = self.panels[index].bar
        return x0 + left, y1 - bottom, x0 + right, y1 - top

    def x_of(self, index: int, value: float) -> float:
        """Where ``value`` falls on legend ``index``'s bar, in the renderer's pixels."""
        return self.boxes[index][0] + self.panels[index].x_of(value, self.specs[index].rule)

    def fit(self) -> None:
        """Lay the legends out for the view's current size and DPI, if either changed."""
        size = tuple(self.renderer.GetSize())
        if not all(size) or not self.specs or (size, self.scale) == self._laid_out_for:
            return
        self._layout(*size)
        self._laid_out_for = (size, self.scale)

    def _layout(self, width: int, height: int) -> None:
        """Draw the panels as large as the screen asks, smaller when the view cannot hold
        them, and leave out those that do not fit even then."""
        base = scale = self.scale
        while True:
            margin = max(4, round(_MARGIN * scale))
            widest = int(0.5 * width) - margin
            panels = [draw_panel(spec, scale, widest) for spec in self.specs]
            # again, all as wide as the widest and their bars lined up: one column, not a pile
            common = max(p.image.shape[1] for p in panels), max(p.bar[0] for p in panels)
            panels = [draw_panel(spec, scale, widest, *common) for spec in self.specs]
            sizes = np.array([p.image.shape[1::-1] for p in panels])  # w, h
            tops = margin + np.cumsum(sizes[:, 1] + margin) - margin  # top of each, stacked up
            # Room: up to 60% of the height and no more than _MAX_SHARE of the area, so the
            # machine stays the picture.
            shown = (tops <= 0.6 * height) & (np.cumsum(np.prod(sizes, axis=1)) <= _MAX_SHARE * width * height)
            shown &= sizes[:, 0] <= width - 2 * margin
            if shown.all() or scale <= _MIN_SCALE * base:
                break
            scale = max(_MIN_SCALE * base, scale * 0.85)
        shown = np.cumprod(shown).astype(bool)  # a stack has no gaps
        self.panels = panels
        y0 = tops - sizes[:, 1]
        self.boxes = np.where(shown[:, None], np.c_[np.full(len(panels), margin), y0, margin + sizes[:, 0], tops],
                              np.nan).astype(float)

        # One texture: the panels one under another, then every caret sprite in a row.
        sprites = [s for p in panels for s in p.carets]
        self._spans = [span for p in panels for span in p.spans]
        sheet_w = max(int(sizes[:, 0].max()), sum(s.shape[1] + 2 for s in sprites))
        sheet_h = int(sizes[:, 1].sum()) + 2 * len(panels) + max((s.shape[0] for s in sprites), default=0)
        sheet = np.zeros((sheet_h, sheet_w, 4), dtype=np.uint8)
        cells, y = [], 0
        for p in panels:
            h, w = p.image.shape[:2]
            sheet[y:y + h, :w] = p.image
            cells.append((0, y, w, h))
            y += h + 2
        self._sprites, x = [], 0
        for s in sprites:
            h, w = s.shape[:2]
            sheet[y:y + h, x:x + w] = s
            self._sprites.append((x, y, w, h))
            x += w + 2
        self._sheet_size = sheet_w, sheet_h
        self._sheet.SetDimensions(sheet_w, sheet_h, 1)
        flipped = np.ascontiguousarray(sheet[::-1]).reshape(-1, 4)  # VTK's rows go up
        self._sheet.GetPointData().SetScalars(numpy_to_vtk(flipped, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
        self._sheet.Modified()

        tc = self._tcoords.reshape(-1, 4, 2)
        for q, (left, top, w, h) in enumerate(cells + self._sprites):
            tc[q] = _quad(left / sheet_w, 1 - (top + h) / sheet_h, (left + w) / sheet_w, 1 - top / sheet_h)
        self._vtk_tcoords.Modified()
        pts = self._points.reshape(-1, 4, 3)
        for i, box in enumerate(self.boxes):
            pts[i, :, :2] = _quad(*box) if shown[i] else _OFF
            self._place_markers(i, modified=False)
        self._vtk_points.Modified()
        self.polydata.Modified()

    def _place_markers(self, index: int, modified: bool = True) -> None:
        """Put legend ``index``'s carets over their values, tips on the bar (hidden without
        a value or before the first layout). A caret's tag goes right of it, else left,
        where it touches no other caret or tag and stays on the panel; else it is left out."""
        first = self._first_marker[index]
        pts, tcs = self._points.reshape(-1, 4, 3), self._tcoords.reshape(-1, 4, 2)
        values = self.values[index]
        placed = bool(self.panels) and not np.isnan(self.boxes[index][0])
        for k, value in enumerate(values):
            if value is None or not placed:
                pts[first + k, :, :2] = _OFF
        if placed:
            panel, (x0, _, x1, _) = self.panels[index], self.boxes[index]
            shown = sorted((self.x_of(index, v), k) for k, v in enumerate(values) if v is not None)
            lefts = [round(x - panel.caret_w / 2) for x, _ in shown]
            carets = [(left, left + panel.caret_w) for left in lefts]
            taken: list[tuple[int, int]] = []
            sheet_w, sheet_h = self._sheet_size
            y = self.bar_box(index)[3]
            for j, ((_, k), left) in enumerate(zip(shown, lefts)):
                q = first + k
                span = self._spans[q - len(self.specs)]
                others = carets[:j] + carets[j + 1:] + taken
                for before, after in ((0, span), (span, 0), (0, 0)):
                    lo, hi = left - before, left + panel.caret_w + after
                    tag = (lo, left) if before else (hi - after, hi)  # the tag's own stretch
                    if before == after or (x0 <= lo and hi <= x1 and
                                           all(tag[1] + 2 <= a or tag[0] >= b + 2 for a, b in others)):
                        break
                taken.append(tag)
                sl, st, _, sh = self._sprites[q - len(self.specs)]
                pts[q, :, :2] = _quad(lo, y, hi, y + sh)
                u0, u1 = sl + span - before, sl + span + panel.caret_w + after
                tcs[q] = _quad(u0 / sheet_w, 1 - (st + sh) / sheet_h, u1 / sheet_w, 1 - st / sheet_h)
            self._vtk_tcoords.Modified()
        if modified:
            self._vtk_points.Modified()
            self.polydata.Modified()


def _quad(x0, y0, x1, y1) -> np.ndarray:
    """Corners ``(4, 2)`` of an axis-aligned quad, counter-clockwise from bottom left."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
