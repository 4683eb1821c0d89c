"""Scene: a twin's bindings applied to its VTK view, in place, once per frame."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import reduce

import numpy as np
import pyvista as pv

from overlays import camera, motion, palette
from overlays.badges import DOT_PX, BadgeLayer
from overlays.selection import COVER_TOLERANCE
from overlays.colormap import QUALITY_LOOKS, ColourRule, untrusted
from overlays.label_rule import LabelRule
from overlays.field import FieldLayer
from overlays.labels import LabelLayer
from overlays.legend_panel import marker_tags
from overlays.geometry import prepare
from overlays.parts import PartMeshes
from viewer.legends import twin_legends
from viewer.twin.loader import Twin
from viewer.twin.schema import BindingSpec

_MOVES = ("rotate", "translate", "spin")
BACKGROUND = ("#1d2330", "#3b4558")  # bottom, top: dark so colours and labels read well
# No multisampling: on software GL (llvmpipe) 4x MSAA made a pump frame at 1280x800
# cost 75 ms instead of 19 ms; VTK's FXAA falls back to SSAA there, which is slower still.
MULTI_SAMPLES = 0
LABEL_PERIOD_S = 0.1  # label texts change at most this often
BLINK_PERIOD_S = 1.0  # an unacknowledged badge's halo blinks once a second: 2 renders/s of an idle view
ALARM_TINT = 0.6  # share of the severity colour in a part in alarm that has no data colour
BADGE_SAMPLES = 24  # points per part asked whether the part shows (a badge marks a hidden part)
_BADGES = ["live", "no data", "last known", "stale", "offline"]  # better to worse


def offscreen_plotter(size) -> pv.Plotter:
    """A plotter that draws with no display at all (VTK's EGL path when there is no X)."""
    if not os.environ.get("DISPLAY"):
        # Go straight to EGL instead of letting VTK try (and warn about) a missing X server.
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    plotter = pv.Plotter(off_screen=True, window_size=tuple(size))
    plotter.ren_win.SetMultiSamples(MULTI_SAMPLES)
    return plotter


def moving_parts(twin: Twin) -> set[str]:
    """The parts a binding or a procedure's step moves: each starts a rigid group of its own."""
    return {b.part for b in twin.bindings if b.kind in _MOVES} | {p for pr in twin.procedures for p in pr.moved_parts}


def prepare_geometry(twin: Twin) -> None:
    """Merge the twin's parts into their groups and give them normals, now, on this
    thread (the window's loader runs it beside the import, so that showing the twin
    only hands finished arrays to VTK)."""
    twin.geometry = prepare(twin.assembly, moving_parts(twin))


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
        self.parts = PartMeshes(plotter, twin.assembly, moving_parts(twin), twin.geometry)
        twin.geometry = None  # handed over: the meshes hold what they need of it

        self.qualities: dict[str, str] = {}
        self._untrusted: dict[str, str] = {}  # signal -> quality, of those drawn washed out
        self._index = {id(b): i for i, b in enumerate(bindings)}  # for unit conversions
        self.colours = [(b, ColourRule(b.cmap, *b.range)) for b in bindings if b.kind == "colour"]
        self._colour_sets = self._colour_tables()
        self.fields = [(b, FieldLayer(plotter, self.parts, b.part, np.array([s.at for s in b.sensors]),
                                      ColourRule(b.cmap, *b.range), b.power)) for b in bindings if b.kind == "field"]
        self._alarm_look()  # the condition view, the selection colour, no badges yet
        self.legends, self._legend_signals = twin_legends(plotter, twin, self.colours + self.fields, self._index)
        self._legend_names = {name for signals in self._legend_signals for name, _ in signals}

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
        self._anchors = np.array([self._label_anchor(b.part, rest) if b.at is None else np.append(b.at, 1.0)
                                  for b, _ in self.labels]).reshape(-1, 4)
        self._label_stale: set[int] = set()
        self._label_clock = 0.0
        self._label_moves = [self.parts.group_root(b.part) is not None for b, _ in self.labels]
        self._label_limits = self._label_limit_table()
        #: The session's :class:`~viewer.state.TwinForecasts` (kept fresh there), if any:
        #: labels show the rate and what comes next.
        self.forecasts = None
        self.clock = time.time  #: the time of the data (a replay's, in a replay)
        self.simulated: set[str] = set()  #: signals a scenario changes: their labels say SIM
        if self.label_layer is not None:
            self.label_layer.obstacles = self._label_obstacles  # labels keep clear of badges and legends

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

    def _sync_legends(self, values) -> None:
        """Carets over the legends' bars at the colour-bound values (hidden without one)."""
        for i, signals in enumerate(self._legend_signals):
            self.legends.set_values(i, [None if (v := values.get(name)) is None else v * scale + offset
                                        for name, (scale, offset) in signals])

    def close(self) -> None:
        """Take everything this scene drew out of the plotter (actors, legends, labels)."""
        for _, field in self.fields:
            field.close()
        self.parts.close()
        if self.badges is not None:
            self.badges.close()
            self.badges = None
        if self.legends is not None:
            self.legends.close()
            self.legends = None
        if self.label_layer is not None:
            self.label_layer.close()

    def view(self, name: str = "iso") -> None:
        """Look at the whole machine from a standard direction (see ``camera.VIEWS``)."""
        self._frame(None, name)

    def fit(self, part: str | None = None) -> None:
        """Fill the view with ``part`` (the whole machine by default), keeping the direction."""
        self._frame(part, None)

    def _frame(self, part: str | None, view: str | None) -> None:
        bounds = self.parts.bounds(part) if part else None
        bounds = bounds if bounds is not None else self.parts.bounds()
        if bounds is not None:
            camera.frame(self.plotter, bounds, view)

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
            self._untrusted = {name: q for name, q in qualities.items() if q in QUALITY_LOOKS}
        for rule, signals, names, targets, owners, (scale, offset) in self._shown_colour_sets():
            if force or not names.isdisjoint(dirty):
                raw = np.array(list(map(values.get, signals)), dtype=float)  # None (no value yet): NaN
                rgb = rule.rgb(raw * scale + offset)
                if self._untrusted:  # a loop over every signal only while some are not live
                    for i, name in enumerate(signals):
                        if name in self._untrusted:
                            rgb[i] = untrusted(rgb[i], self._untrusted[name])
                self.parts.set_colours(targets, rgb[owners])
        if "colours" not in self.hidden_layers:
            self._sync_fields(values, dirty, force or qualities is not None)
        if self.legends is not None and (force or not self._legend_names.isdisjoint(dirty)):
            self._sync_legends(values)

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
        for _, field in self.fields if moved else ():
            field.follow()
        labelled = self.label_layer is not None and self._sync_labels(values, dirty, moved, dt, force)
        badged = self.badges is not None and self._sync_badges(moved, dt)
        if not (dirty or moved or force):
            return labelled or badged
        self.parts.flush()
        return True

    def _sync_fields(self, values, dirty: set[str], force: bool) -> None:
        """Surface fields from their sensors' values; a sensor that is not live drops out."""
        for b, field in self.fields:
            names = [s.signal for s in b.sensors]
            if force or not dirty.isdisjoint(names):
                index = self._index[id(b)]
                readings = np.array([self.twin.converted(index, n, values.get(n)) for n in names], dtype=float)
                field.update(readings, np.array([self.qualities.get(n, "live") == "live" for n in names]))

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
        if not self.parts.is_visible(binding.part):
            return ""  # a hidden part's label goes with it
        index = self._index[id(binding)]
        values = {n: self.twin.converted(index, n, values.get(n)) for n in rule.names}
        worst = max((self.qualities.get(n, "live") for n in rule.names), key=_BADGES.index, default="live")
        badge = {"stale": " ⚠ stale", "last known": " (last known)", "offline": " ⚠ offline"}.get(worst, "")
        if not self.simulated.isdisjoint(rule.names):
            badge += " SIM"
        trends, now = {}, self.clock()
        for n in rule.names:
            f = self.forecasts.latest.get(n) if self.forecasts is not None else None
            if f is not None and f.model is not None:
                scale, _ = self.twin.conversions.get((index, n), (1.0, 0.0))  # a rate converts without offset
                left = self.forecasts.fitted[n] + f.next.eta - now if f.next else 0.0  # counts down between fits
                coming = replace(f.next, eta=left).describe(brief=True) if left > 0 else ""  # the range: in the lists
                trends[n] = (f.rate * 60 * scale, coming)
        if sum(bool(coming) for _, coming in trends.values()) > 1:  # say whose: "Speed alarm in ~3 min"
            names = sorted(rule.names)
            tags = dict(zip(names, marker_tags(names)))
            trends = {n: (rate, f"{tags[n]} {coming}" if coming else "") for n, (rate, coming) in trends.items()}
        return rule.text(values, self._label_limits[i], trends) + badge

    def _label_limit_table(self) -> list[dict]:
        """Per label: signal -> its limits in the label's unit for that signal (the marks
        such as "▲95" that :meth:`LabelRule.text` adds)."""
        limits = {a.signal: a.limits for a in self.twin.alarms if a.id == a.signal}  # not a colour's own
        table = []
        for binding, rule in self.labels:
            index = self._index[id(binding)]
            table.append({n: {k: self.twin.converted(index, n, v) for k, v in limits[n].items()}
                          for n in rule.names if n in limits})
        return table

    def _label_obstacles(self) -> tuple[np.ndarray, np.ndarray]:
        """What labels keep clear of on screen: the alarm badges, the dots where their
        leaders start and the legends shown (boxes), and, if they can, the leaders (lines)."""
        boxes, lines = np.zeros((0, 4)), np.zeros((0, 4))
        if self.badges is not None:
            badges, anchors = self.badges.screen_places()
            dots = np.c_[anchors - DOT_PX / 2, anchors + DOT_PX / 2]
            boxes, lines = np.r_[badges, dots], np.c_[anchors, (badges[:, :2] + badges[:, 2:]) / 2]
        if self.legends is not None and self.legends.actor.GetVisibility():
            self.legends.fit()  # laid out for this frame (nothing to do unless the view changed)
            boxes = np.r_[boxes, self.legends.boxes]  # NaN rows (no room) are ignored
        return boxes, lines

    # -- condition view and alarms ---------------------------------------------------

    def _alarm_look(self) -> None:
        """Colours of the app's own (neutral parts, selection) chosen away from every
        colour the twin's maps can give; the condition view on when the twin binds anything."""
        tables = [rule.table for _, rule in self.colours] + [field.rule.table for _, field in self.fields]
        #: Every colour the scene's colour maps can draw (n x 3 uint8).
        self.map_colours = np.unique(np.concatenate(tables), axis=0) if tables else np.zeros((0, 3), np.uint8)
        self._data_coloured = np.zeros(len(self.parts.names), dtype=bool)
        for b, _ in self.colours + self.fields:
            self._data_coloured[self.parts.own_geometry(b.part)] = True
        self._neutral_range = palette.neutral_range(self.map_colours)
        severities = np.array(list(palette.SEVERITY_RGB.values()))
        self.parts.selection.set_colour(palette.selection_colour(self.map_colours, severities))
        self.badges: BadgeLayer | None = None  # made with the first badge
        self.alarm_looks: dict[str, tuple] = {}  # part -> (severity, acknowledged, active)
        self._badge_moving = np.zeros(0, dtype=np.int64)  # badges whose parts move
        self._blink_clock, self.blinking = 0.0, True
        self.set_condition_view(bool(self.twin.bindings))

    def set_condition_view(self, on: bool) -> None:
        """Draw every part that no colour binding colours in neutral greys (``on``), so no
        material colour can pass for a data colour, or in the file's own colours."""
        self.condition_view = bool(on)
        self.parts.set_neutral(~self._shown_data() if on else np.zeros_like(self._data_coloured),
                               self._neutral_range)
        self.parts.flush()

    def set_blinking(self, on: bool) -> None:
        """Let the halos of unacknowledged badges blink (at most two renders a second), or
        show them steady."""
        self.blinking = bool(on)
        if self.badges is not None:
            self.badges.blinking = self.blinking

    def set_alarms(self, looks: dict) -> None:
        """Show what is wrong where: a severity badge beside each part in alarm, tied to it
        by a leader line, and a severity tint on the part unless a data colour shows it.

        Call when alarms change, not per frame: only the parts given change.

        Parameters
        ----------
        looks : dict
            Part name -> ``(severity, acknowledged, active)`` (severity 1 info, 2 warning,
            3 alarm; ``active`` False: returned but not acknowledged, a badge and no
            tint), or None when the part has nothing to show any more.
        """
        for part, look in looks.items():
            if look is None:
                self.alarm_looks.pop(part, None)
            else:
                self.alarm_looks[part] = (int(look[0]), bool(look[1]), bool(look[2]))
            idx = self.parts.own_geometry(part)
            idx = idx[~self._data_coloured[idx]]  # the data wins: a data colour is never tinted
            active = look is not None and bool(look[2])
            self.parts.set_tints(idx, palette.SEVERITY_RGB[int(look[0])] if active else 0, ALARM_TINT if active else 0)
        self.parts.flush()
        self._label_severity(looks)
        if self.badges is None and self.alarm_looks:
            self.badges = BadgeLayer(self.plotter)
            self.badges.blinking = self.blinking
            self.badges.actor.SetVisibility("badges" not in self.hidden_layers)
        if self.badges is None:
            return
        parts = sorted((p for p in self.alarm_looks if self.parts.is_visible(p)),  # a hidden part has none
                       key=lambda p: (self.alarm_looks[p][0], p))  # worst drawn on top
        # Per badge, in its part's own frame: a sphere around the part (a box that does not
        # wobble as the part spins) and points on its surface (where to ask whether it shows).
        spheres = [self.parts.extent(p) or (np.zeros(3), 0.0) for p in parts]
        samples = [self.parts.surface_samples(p, BADGE_SAMPLES) for p in parts]
        self._badge_own = (list(parts), np.array([np.r_[c, 1.0] for c, _ in spheres]).reshape(-1, 4),
                           np.array([r for _, r in spheres]),
                           np.array([np.resize(s if s is not None else np.zeros((1, 3)), (BADGE_SAMPLES, 3))
                                     for s in samples]).reshape(-1, BADGE_SAMPLES, 3))
        boxes, points = self._badge_places(np.arange(len(parts)))
        self.badges.set(parts, boxes, points, COVER_TOLERANCE * self._badge_own[2],
                        [self.alarm_looks[p][0] for p in parts], [self.alarm_looks[p][1] for p in parts])
        self._badge_moving = np.array([i for i, p in enumerate(parts) if self.parts.group_root(p) is not None],
                                      dtype=np.int64)

    def _label_severity(self, looks: dict) -> None:
        """Labels on the parts in ``looks`` take the severity of their part's active alarms
        (their border and leader in its colour), 0 when it has none."""
        rows = [i for i, (b, _) in enumerate(self.labels) if b.part in looks]
        if self.label_layer is None or not rows:
            return
        severity = [(look[0] if (look := self.alarm_looks.get(self.labels[i][0].part)) and look[2] else 0)
                    for i in rows]
        self.label_layer.set_severity(rows, severity)

    def _badge_places(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World boxes ``(n, 2, 3)`` and surface points ``(n, k, 3)`` of badges ``rows``,
        where their parts are now."""
        names, centres, radii, samples = self._badge_own
        worlds = self.parts.world_transforms()
        frames = np.array([worlds[names[i]] for i in rows]).reshape(-1, 4, 4)
        at = np.einsum("nij,nj->ni", frames, centres[rows])[:, :3]
        r = radii[rows][:, None]
        points = np.einsum("nij,nkj->nki", frames[:, :3, :3], samples[rows]) + frames[:, None, :3, 3]
        return np.stack([at - r, at + r], axis=1), points

    def _sync_badges(self, moved: set[str], dt: float) -> bool:
        """Badges follow moving parts; unacknowledged ones blink. True if a render is due."""
        if moved and len(self._badge_moving):
            self.badges.move(self._badge_moving, *self._badge_places(self._badge_moving))
        self._blink_clock += dt
        if self._blink_clock < BLINK_PERIOD_S / 2:
            return False
        self._blink_clock %= BLINK_PERIOD_S / 2
        return self.badges.blink(not self.badges.phase)

    def shown_parts_changed(self, values) -> None:
        """After parts were hidden or shown (the parts tree, a walkthrough step): their
        labels, badges and sensor markers go and come with them."""
        for _, field in self.fields:
            field.actor.SetVisibility(self.parts.is_visible(field.part) and "colours" not in self.hidden_layers)
        self.set_alarms({})  # the badges again, of the parts shown
        self.sync(values, set(), 0.0, force=True)

    def bindings_of(self, part: str) -> list[BindingSpec]:
        """Bindings that act on ``part`` or on a part it belongs to."""
        owners = {part, *self.twin.assembly.ancestors(part)}
        return [b for b in self.twin.bindings if b.part in owners]

    def label_texts(self) -> list[str]:
        """Current text of every label, in binding order."""
        return [self.label_layer.text(i) for i in range(len(self.labels))] if self.label_layer else []

    # -- layers the user shows or hides ---------------------------------------------

    #: What :meth:`set_layer_visible` can hide.
    LAYERS = ("colours", "labels", "badges", "legends")
    #: The layers hidden now (none until :meth:`set_layer_visible` says otherwise).
    hidden_layers: frozenset = frozenset()

    def set_layer_visible(self, layer: str, visible: bool, values=None) -> None:
        """Show or hide one of :data:`LAYERS`: the data colours of the parts (hidden, they
        are drawn as if unbound), the labels, the alarm badges, the colour legends.

        Parameters
        ----------
        layer : str
            One of :data:`LAYERS`.
        visible : bool
            Show it or not.
        values : mapping, optional
            Signal -> latest value, to colour the parts again when ``colours`` is shown.
        """
        if layer not in self.LAYERS:
            raise ValueError(f"no layer {layer!r}; one of {', '.join(self.LAYERS)}")
        self.hidden_layers = self.hidden_layers - {layer} if visible else self.hidden_layers | {layer}
        if layer == "colours":
            if visible:
                for _, field in self.fields:
                    field.show()
                self.sync(values or {}, set(), dt=0.0, force=True)
            else:
                for b, _ in self.colours:
                    self.parts.set_colour(b.part, None)
            for _, field in self.fields if not visible else ():
                field.hide()
            self.set_condition_view(self.condition_view)  # bound parts go neutral with it, or back
        elif layer == "labels" and self.label_layer is not None:
            self.label_layer.actor.SetVisibility(visible)
        elif layer == "badges":
            if self.badges is not None:
                self.badges.actor.SetVisibility(visible)
            if self.label_layer is not None:  # labels keep clear of badges only when they show
                if not visible and getattr(self.label_layer, "obstacles", None) is not None:
                    self._label_obstacles, self.label_layer.obstacles = self.label_layer.obstacles, None
                elif visible and getattr(self, "_label_obstacles", None) is not None:
                    self.label_layer.obstacles, self._label_obstacles = self._label_obstacles, None
        elif layer == "legends" and self.legends is not None:
            self.legends.actor.SetVisibility(visible)

    def layer_visible(self, layer: str) -> bool:
        """Whether ``layer`` (one of :data:`LAYERS`) is shown."""
        return layer not in self.hidden_layers

    def _shown_colour_sets(self) -> list[tuple]:
        return [] if "colours" in self.hidden_layers else self._colour_sets

    def _shown_data(self) -> np.ndarray:
        """Per part: a data colour shows on it now."""
        return self._data_coloured & ("colours" not in self.hidden_layers)
