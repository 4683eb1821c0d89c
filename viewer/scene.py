"""Scene: a twin's bindings applied to its VTK view, in place, once per frame."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pyvista as pv

from overlays import motion
from overlays.colormap import QUALITY_LOOKS, ColourRule, untrusted
from overlays.label_rule import LabelRule
from overlays.labels import LabelLayer
from overlays.legend import add_legend
from overlays.parts import PartMeshes
from viewer.twin.loader import Twin
from viewer.twin.schema import BindingSpec

_MOVES = ("rotate", "translate", "spin")
#: Standard views: direction from the machine to the camera, and the up vector (Z up).
VIEWS = {
    "iso": ((1.0, -1.2, 0.9), (0, 0, 1)),
    "front": ((0, -1, 0), (0, 0, 1)),
    "side": ((1, 0, 0), (0, 0, 1)),
    "top": ((0, 0, 1), (0, 1, 0)),
}
BACKGROUND = ("#1d2330", "#3b4558")  # bottom, top: dark so colours and labels read well
# No multisampling: on software GL (llvmpipe) 4x MSAA made a pump frame at 1280x800
# cost 75 ms instead of 19 ms; VTK's FXAA falls back to SSAA there, which is slower still.
MULTI_SAMPLES = 0
MAX_LEGENDS = 6  # more colour bars than this hide the machine
LABEL_PERIOD_S = 0.1  # label texts change at most this often
_BADGES = ["live", "no data", "last known", "stale", "offline"]  # better to worse


class Scene:
    """Draws a twin into ``plotter`` and keeps it in step with the signal values.

    Parameters
    ----------
    plotter : pyvista.Plotter
        An offscreen plotter or a Qt interactor.
    twin : Twin
        The loaded twin.
    """

    def __init__(self, plotter: pv.Plotter, twin: Twin):
        self.plotter, self.twin = plotter, twin
        plotter.set_background(BACKGROUND[0], top=BACKGROUND[1])
        bindings = twin.bindings
        self.parts = PartMeshes(plotter, twin.assembly, {b.part for b in bindings if b.kind in _MOVES})

        self.qualities: dict[str, str] = {}
        self._index = {id(b): i for i, b in enumerate(bindings)}  # for unit conversions
        self.colours = [(b, ColourRule(b.cmap, *b.range)) for b in bindings if b.kind == "colour"]
        self._colour_sets = self._colour_tables()
        self.legends = self._add_legends()

        self.moves: list[tuple[BindingSpec, object]] = []
        for b in bindings:
            if b.kind in _MOVES:
                axis, pivot = twin.joint_axis_pivot(b)
                self.moves.append((b, motion.Spin(axis, pivot, b.scale) if b.kind == "spin" else (axis, pivot)))
        self._motion = {id(b): np.eye(4) for b, _ in self.moves}
        self._moves_of: dict[str, list[int]] = {}  # part -> its motion bindings, composed in order
        for b, _ in self.moves:
            self._moves_of.setdefault(b.part, []).append(id(b))

        self.labels = [(b, LabelRule(b.text)) for b in bindings if b.kind == "label"]
        self.label_layer = LabelLayer(plotter.renderer, len(self.labels)) if self.labels else None
        rest = twin.assembly.world_transforms()
        self._anchors = np.array([self._label_anchor(b.part, rest) for b, _ in self.labels]).reshape(-1, 4)
        self._label_stale: set[int] = set()
        self._label_clock = 0.0
        self._label_moves = [self.parts.group_root(b.part) is not None for b, _ in self.labels]

        self.sync({name: None for name in twin.signals}, set(twin.signals), dt=0.0, force=True)
        self.view("iso")

    def _colour_tables(self) -> list[tuple]:
        """Colour bindings grouped by rule, as flat arrays, so a frame colours them all
        with a few numpy operations instead of a Python call per part."""
        sets: dict[tuple, tuple] = {}
        for b, rule in self.colours:
            rule, signals, targets, owners, scales = sets.setdefault((b.cmap, b.range), (rule, [], [], [], []))
            idx = self.parts.own_geometry(b.part)
            targets.append(idx)
            owners.append(np.full(len(idx), len(signals)))
            signals.append(b.signal)
            scales.append(self.twin.conversions.get((self._index[id(b)], b.signal), (1.0, 0.0)))
        return [(rule, signals, set(signals), np.concatenate(t), np.concatenate(o), np.array(c).T)
                for rule, signals, t, o, c in sets.values()]

    def _add_legends(self) -> list:
        """One colour legend per distinct map, range and unit, titled with its signals."""
        legends: dict[tuple, tuple[ColourRule, list[str]]] = {}
        for b, rule in self.colours:
            unit = b.unit or self.twin.signals[b.signal].unit
            entry = legends.setdefault((b.cmap, b.range, unit), (rule, []))
            if b.signal not in entry[1]:
                entry[1].append(b.signal)
        shown = list(legends.items())[:MAX_LEGENDS]
        bars = []
        for slot, ((_, _, unit), (rule, signals)) in enumerate(shown):
            names = ", ".join(signals) if len(signals) <= 2 else f"{len(signals)} signals"
            bars.append(add_legend(self.plotter.renderer, rule, f"{names} [{unit}]" if unit else names,
                                   slot, len(shown)))
        return bars

    def close(self) -> None:
        """Take everything this scene drew out of the plotter (actors, legends, labels)."""
        self.parts.close()
        for bar in self.legends:
            self.plotter.remove_actor(bar, reset_camera=False, render=False)
        self.legends = []
        if self.label_layer is not None:
            self.label_layer.close()

    def view(self, name: str = "iso") -> None:
        """Look at the whole machine from a standard direction (see ``VIEWS``)."""
        direction, up = VIEWS[name]
        camera = self.plotter.camera
        camera.up = up
        camera.position = np.add(camera.focal_point, direction)
        self.fit()

    def fit(self, part: str | None = None) -> None:
        """Fill the view with ``part`` (the whole machine by default), keeping the direction."""
        bounds = self.parts.bounds(part) if part else None
        bounds = bounds if bounds is not None else self.parts.bounds()
        if bounds is None:
            return
        camera = self.plotter.camera
        direction = np.subtract(camera.position, camera.focal_point)
        centre = bounds.mean(axis=0)
        radius = max(np.linalg.norm(bounds[1] - bounds[0]) / 2, 1e-3)
        camera.view_angle = 30.0
        # the distance at which the bounding sphere just fits the 30 degree view, a little closer
        distance = radius / np.sin(np.radians(15)) * 0.95
        camera.focal_point = centre
        camera.position = centre + direction / np.linalg.norm(direction) * distance
        self.plotter.renderer.ResetCameraClippingRange()

    def _label_anchor(self, part: str, rest: dict) -> np.ndarray:
        """Top centre of the part's own bounds (not its children's), in its own frame."""
        bounds = self.parts.bounds(part, own=True)
        if bounds is None:
            top = rest[part][:3, 3]
        else:
            top = np.array([*(bounds[0][:2] + bounds[1][:2]) / 2, bounds[1][2]])
        return np.linalg.inv(rest[part]) @ np.append(top, 1.0)

    def sync(self, values: dict[str, float | None], dirty: set[str], dt: float, force: bool = False,
             qualities: dict[str, str] | None = None) -> bool:
        """Apply changed signal values (and ``dt`` seconds of spinning) to the view.

        ``qualities`` (signal -> quality), when given, replaces the known qualities;
        signals whose quality changed must be in ``dirty``. Colours of signals that
        are not live are washed out and their labels say why.
        Returns True when anything visible changed and a render is due.
        """
        if qualities is not None:
            self.qualities = qualities
        for rule, signals, names, targets, owners, (scale, offset) in self._colour_sets:
            if force or not names.isdisjoint(dirty):
                raw = np.array([np.nan if (v := values.get(n)) is None else v for n in signals])
                rgb = rule.rgb(raw * scale + offset)
                for i, name in enumerate(signals):
                    if self.qualities.get(name, "live") in QUALITY_LOOKS:
                        rgb[i] = untrusted(rgb[i], self.qualities[name])
                self.parts.set_colours(targets, rgb[owners])

        moved = set(self._moves_of) if force else set()
        for b, how in self.moves:
            value = self.twin.converted(self._index[id(b)], b.signal, values.get(b.signal))
            if b.kind == "spin":
                if value:  # a stopped machine does not turn
                    self._motion[id(b)] = how.advance(value, dt)
                    moved.add(b.part)
            elif b.signal in dirty and value is not None:
                axis, pivot = how
                if b.kind == "rotate":
                    self._motion[id(b)] = motion.rotate(value, axis, pivot, b.scale, b.offset)
                else:
                    self._motion[id(b)] = motion.translate(value, axis, b.scale, b.offset)
                moved.add(b.part)
        for part in moved:
            self.parts.set_joint(part, reduce(np.matmul, [self._motion[i] for i in self._moves_of[part]]))
        labelled = self.label_layer is not None and self._sync_labels(values, dirty, moved, dt, force)
        if not (dirty or moved or force):
            return labelled
        self.parts.flush()
        return True

    def _sync_labels(self, values, dirty: set[str], moved: set[str], dt: float, force: bool) -> bool:
        """Labels follow their parts every frame; their texts change at most ~10 times a
        second (people cannot read faster, and each new text costs a layout).
        Returns True when a label changed."""
        for i, (_, rule) in enumerate(self.labels):
            if not rule.names.isdisjoint(dirty):
                self._label_stale.add(i)
        self._label_clock += dt
        retext = force or (self._label_stale and self._label_clock >= LABEL_PERIOD_S)
        due = set(self._label_stale) if retext else set()
        if moved or force:
            due.update(i for i, m in enumerate(self._label_moves) if m or force)
        if not due:
            return False
        due = sorted(due)
        worlds = self.parts.world_transforms()
        where = np.einsum("nij,nj->ni", np.array([worlds[self.labels[i][0].part] for i in due]),
                          self._anchors[due])[:, :3]
        texts = [self._label_text(i, values) if retext else self.label_layer.text(i) for i in due]
        self.label_layer.set_many(due, where, texts)
        if retext:
            self._label_stale.clear()
            self._label_clock = 0.0
        return True

    def _label_text(self, i: int, values) -> str:
        """Label ``i``'s text, with the worst quality of its signals when not live."""
        binding, rule = self.labels[i]
        index = self._index[id(binding)]
        values = {n: self.twin.converted(index, n, values.get(n)) for n in rule.names}
        worst = max((self.qualities.get(n, "live") for n in rule.names), key=_BADGES.index, default="live")
        badge = {"stale": " ⚠ stale", "last known": " (last known)", "offline": " ⚠ offline"}.get(worst, "")
        return rule.text(values) + badge

    def bindings_of(self, part: str) -> list[BindingSpec]:
        """Bindings that act on ``part`` or on a part it belongs to."""
        owners = {part, *self.twin.assembly.ancestors(part)}
        return [b for b in self.twin.bindings if b.part in owners]

    def label_texts(self) -> list[str]:
        """Current text of every label, in binding order."""
        return [self.label_layer.text(i) for i in range(len(self.labels))] if self.label_layer else []
