"""Load a twin file: YAML -> schema -> cross-checks -> :class:`Twin`.

Every problem is collected and reported at once as ``FILE:LINE: message``; a user
never sees a traceback for a mistake in their file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from pydantic import ValidationError

from meshes import Assembly, MeshImportError
from meshes.isolated import ImportCancelled, import_assembly
from meshes.transforms import euler_xyz, translation
from overlays.colormap import known_colormap
from overlays.label_rule import LabelRule
from viewer.twin.expr import SIMULATION_FUNCTIONS, Expression, ExpressionError
from viewer.twin.fields import FieldPathError, parse_field_path
from viewer.twin.limits import AlarmDef, twin_alarms
from viewer.twin.messages import schema_problems
from viewer.twin.models import ModelDef, evaluation_order, model_unit
from viewer.twin.units import MOTION_UNITS, UnitError, check_unit, conversion, motion_scale, pretty_unit
from viewer.twin.schema import DEFAULT_STALE_AFTER, MODEL_STATE, BindingSpec, BrokerSpec, PartSpec, SignalSpec, TwinSpec
from viewer.twin.tls import TlsError, tls_context
from viewer.twin.markers import check_markers
from viewer.twin.procedure import load_procedures
from viewer.twin.problems import Problem, TwinError, suggest
from viewer.twin.yaml_lines import MAX_DEPTH, Lines, YamlLimitError, load_with_lines, read_limited


@dataclass
class Signal:
    """A signal of a loaded twin: its spec and its compiled expression."""

    name: str
    spec: SignalSpec
    expr: Expression | None = None
    model: ModelDef | None = None  # a model signal's, checked

    stale_after: float | None = None  # the signal's or the twin's

    @property
    def unit(self) -> str:
        """Display unit."""
        return self.spec.unit


@dataclass
class Twin:
    """A loaded, checked twin: geometry, joints, signals and bindings."""

    name: str
    path: Path
    broker_url: str
    assembly: Assembly
    joints: dict[str, PartSpec]
    signals: dict[str, Signal]
    bindings: list[BindingSpec]
    spec: TwinSpec
    notes: list[str] = field(default_factory=list)
    broker: BrokerSpec | None = None  # connection options, TLS paths made absolute
    conversions: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)
    """(binding index, signal) -> (scale, offset) into the unit the binding asks for."""
    alarms: list[AlarmDef] = field(default_factory=list)
    """The signals' limits (and colour bindings' own), as alarms."""
    procedures: list = field(default_factory=list)
    """Its service procedures (:class:`~viewer.twin.procedure.Procedure`), checked."""
    geometry: object | None = None
    """The parts' merged arrays and boxes (an ``overlays.geometry.Geometry``), made off the UI thread by
    :func:`viewer.scene.prepare_geometry`; None: the scene makes them."""

    def converted(self, index: int, signal: str, value: float | None) -> float | None:
        """``value`` of ``signal`` in the unit binding ``index`` asks for."""
        conv = self.conversions.get((index, signal))
        return value if conv is None or value is None else value * conv[0] + conv[1]

    def joint_axis_pivot(self, binding: BindingSpec) -> tuple[np.ndarray, np.ndarray]:
        """Axis and pivot (part frame) for a transform binding."""
        joint = self.joints.get(binding.part)
        axis = binding.axis or (joint.axis if joint else (0.0, 0.0, 1.0))
        pivot = binding.pivot or (joint.pivot if joint else (0.0, 0.0, 0.0))
        return np.asarray(axis, float), np.asarray(pivot, float)


def load_twin(path, allow_outside: bool = False, geometry: bool = True, progress=None, cancelled=None) -> Twin:
    """Load and check a twin file.

    Parameters
    ----------
    path : str or Path
        The twin YAML file.
    allow_outside : bool
        Let mesh paths leave the twin file's folder.
    geometry : bool
        Load the meshes. Without them (for text-only commands such as ``watch``) the
        twin has an empty assembly and part names are not checked.
    progress, cancelled : callable, optional
        Passed to :func:`meshes.isolated.import_assembly` for every mesh: each is
        imported in a child process under memory and time limits.

    Raises
    ------
    TwinError
        Listing every problem with file and line.
    meshes.isolated.ImportCancelled
        If ``cancelled`` said so.
    """
    path = Path(path)
    label = str(path)
    try:
        data, lines = load_with_lines(read_limited(path))
    except YamlLimitError as exc:
        raise TwinError([Problem(label, exc.line, str(exc))]) from None
    except RecursionError:  # the limits should stop this first; never a traceback though
        raise TwinError([Problem(label, 0, f"nested deeper than {MAX_DEPTH} levels")]) from None
    except OSError as exc:
        raise TwinError([Problem(label, 0, f"cannot read twin file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise TwinError([Problem(label, 0, f"not UTF-8 text (byte {exc.start})")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise TwinError([Problem(label, line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise TwinError([Problem(label, 1, "a twin file is a mapping with twin, parts, signals, bindings")])

    # Repeated keys do not stop the checks: until they are fixed, the last one counts.
    repeated = [Problem(label, line, message) for line, message in lines.duplicates]
    try:
        spec = TwinSpec.model_validate(data)
    except ValidationError as exc:
        found = [Problem(label, lines.line(loc), message) for loc, message in schema_problems(exc.errors(), data)]
        raise TwinError(_in_order(repeated + found, label)) from None

    checker = _Checker(path, label, lines, allow_outside, geometry, progress, cancelled)
    twin = checker.build(spec)
    if repeated or checker.problems:
        raise TwinError(_in_order(repeated + checker.problems, label))
    return twin


def _in_order(problems: list[Problem], twin_file: str) -> list[Problem]:
    """The twin file's problems by line, then those of the files it refers to."""
    return sorted(problems, key=lambda p: (p.file != twin_file, p.file, p.line))


def twin_from_mesh(path, progress=None, cancelled=None) -> Twin:
    """A twin that only shows a mesh file: no signals, no bindings.

    ``progress`` and ``cancelled`` are as for :func:`load_twin`.

    Raises
    ------
    MeshImportError
        If the mesh cannot be read (:class:`~meshes.isolated.ImportCancelled` if cancelled).
    """
    path = Path(path)
    assembly = import_assembly(path, progress=progress, cancelled=cancelled)
    spec = TwinSpec(twin=path.name, parts=[PartSpec(name=next(iter(assembly.parts)), mesh=path.name)])
    return Twin(name=path.name, path=path, broker_url=spec.broker.url, assembly=assembly, joints={},
                signals={}, bindings=[], spec=spec,
                notes=[f"{path.name}: units {assembly.units}, {assembly.n_triangles} triangles"])


class _Checker:
    """Cross-checks a validated spec and builds the twin, collecting problems."""

    def __init__(self, path: Path, label: str, lines: Lines, allow_outside: bool, geometry: bool = True,
                 progress=None, cancelled=None):
        self.folder = path.parent.resolve()
        self.path, self.label, self.lines = path, label, lines
        self.allow_outside, self.geometry = allow_outside, geometry
        self.progress, self.cancelled = progress, cancelled  # of the mesh imports
        self.problems: list[Problem] = []
        # Meshes that did not load: part names that may be their nodes are not checked.
        self.unloaded: list[tuple[tuple, str]] = []  # (location, mesh)
        self.unchecked: dict[str, int] = {}  # "binding" -> how many name a part not checked

    def error(self, loc: tuple, message: str) -> None:
        self.problems.append(Problem(self.label, self.lines.line(loc), message))

    def unknown_part(self, loc: tuple, what: str, message: str) -> None:
        """Report a part name no mesh has, unless a mesh that did not load may have it."""
        if self.unloaded:
            self.unchecked[what] = self.unchecked.get(what, 0) + 1
        else:
            self.error(loc, message)

    def _unchecked_parts(self) -> None:
        """Say once how many part names were not checked, instead of a cascade of them."""
        if not self.unchecked:
            return
        plural = {"binding": "bindings", "joint entry": "joint entries", "parent": "parents"}
        counts = [f"{n} {what if n == 1 else plural[what]}" for what, n in self.unchecked.items()]
        verb = "names a part" if sum(self.unchecked.values()) == 1 else "name parts"
        meshes = list(dict.fromkeys(mesh for _, mesh in self.unloaded))
        self.error(self.unloaded[0][0], f"{_and(counts)} {verb} that could not be checked: "
                   f"{_and(meshes)} did not load")

    def build(self, spec: TwinSpec) -> Twin:
        self.stale_after = spec.stale_after
        assembly, joints, notes = self._parts(spec.parts) if self.geometry else (Assembly(), {}, [])
        signals = self._signals(spec.signals)
        conversions = self._bindings(spec.bindings, assembly, signals)
        bindings = list(spec.bindings) + _sensor_labels(spec.bindings, signals, conversions)
        alarms = twin_alarms(spec.bindings, {n: s.spec for n, s in signals.items()}, conversions, self.error)
        self._unchecked_parts()
        self._simulation(spec)
        known = set(assembly.parts) if self.geometry and not self.unloaded else None
        alarmed = {owner for a in alarms for p in a.parts if p in assembly for owner in (p, *assembly.ancestors(p))}
        procedures, problems = load_procedures(spec.procedures, self.path, self.lines, known, signals, alarmed)
        self.problems += problems
        check_markers(spec.markers, known, self.error)
        return Twin(
            name=spec.twin, path=self.path, broker_url=spec.broker.url, assembly=assembly,
            joints=joints, signals=signals, bindings=bindings, spec=spec, notes=notes,
            broker=self._broker(spec.broker), conversions=conversions, alarms=alarms, procedures=procedures,
        )

    def _broker(self, broker: BrokerSpec) -> BrokerSpec:
        """The broker options with TLS files found relative to the twin, and tried: a
        file that is not PEM is a problem now, not when the viewer connects."""
        if broker.tls is None:
            return broker
        files, found = {}, True
        for key in ("ca", "cert", "key"):
            name = getattr(broker.tls, key)
            if name is not None:
                path = (self.folder / name).resolve()
                if not path.is_file():
                    self.error(("broker", "tls", key), f"broker.tls.{key}: file not found: {name}")
                    found = False
                files[key] = str(path)
        tls = broker.tls.model_copy(update=files)
        if found:
            try:
                tls_context(tls)
            except TlsError as exc:
                name = getattr(broker.tls, exc.key)
                self.error(("broker", "tls", exc.key), f"broker.tls.{exc.key}: {name} {exc.problem}")
        return broker.model_copy(update={"tls": tls})

    def _parts(self, parts: list[PartSpec]):
        assembly, joints, notes = Assembly(), {}, []
        for i, part in enumerate(parts):
            loc = ("parts", i)
            if part.mesh is None:
                if part.name not in assembly:
                    self.unknown_part(loc + ("name",), "joint entry", f"unknown part {part.name!r}: not a node "
                                      f"of a mesh loaded above{suggest(part.name, assembly.parts)}")
                joints[part.name] = part
                continue
            file = self._mesh_path(part.mesh, loc + ("mesh",))
            if file is None:
                self.unloaded.append((loc + ("mesh",), part.mesh))
                continue
            if part.parent is not None and part.parent not in assembly:
                self.unknown_part(loc + ("parent",), "parent",
                                  f"unknown parent {part.parent!r}{suggest(part.parent, assembly.parts)}")
                self.unloaded.append((loc + ("mesh",), part.mesh))
                continue
            try:
                sub = import_assembly(file, name=part.name, units=part.units, progress=self.progress,
                                      cancelled=self.cancelled)
            except ImportCancelled:
                raise
            except MeshImportError as exc:
                self.error(loc + ("mesh",), str(exc))
                self.unloaded.append((loc + ("mesh",), part.mesh))
                continue
            notes.append(f"{part.mesh}: units {sub.units}, {sub.n_triangles} triangles, {len(sub)} parts")
            placement = translation(part.origin or (0, 0, 0)) @ euler_xyz(part.rotation or (0, 0, 0))
            for p in sub:
                if p.parent is None:
                    p.parent, p.local = part.parent, placement @ p.local
                if p.name in assembly:
                    self.error(loc + ("mesh",), f"part name {p.name!r} from {part.mesh} is already used "
                               f"by {assembly[p.name].source}")
                    self.unloaded.append((loc + ("mesh",), part.mesh))
                    break
                assembly.add(p)
            joints[part.name] = part
        return assembly, joints, notes

    def _mesh_path(self, mesh: str, loc: tuple) -> Path | None:
        file = (self.folder / mesh).resolve()
        if not self.allow_outside and not file.is_relative_to(self.folder):
            self.error(loc, f"mesh path {mesh!r} leaves the twin's folder (allow it with --allow-outside)")
            return None
        if not file.is_file():
            self.error(loc, f"mesh file not found: {mesh}")
            return None
        return file

    def _signals(self, specs: dict[str, SignalSpec]) -> dict[str, Signal]:
        signals = {}
        for name, spec in specs.items():
            loc = ("signals", name)
            if not name.isidentifier():
                self.error(loc, f"signal name {name!r} must be a word (letters, digits, _)")
                continue
            signal = Signal(name, spec, stale_after=_stale_after(spec, self.stale_after))
            try:
                check_unit(spec.unit)
            except UnitError as exc:
                self.error(loc + ("unit",), f"signal {name}: {exc}")
            if spec.expr is not None:
                try:
                    signal.expr = Expression(spec.expr, names=("value",))
                except ExpressionError as exc:
                    self.error(loc + ("expr",), f"signal {name}: {exc}")
            for key in ("field", "time_field"):
                if getattr(spec, key) is not None:
                    try:
                        parse_field_path(getattr(spec, key))
                    except FieldPathError as exc:
                        self.error(loc + (key,), f"signal {name}: {exc}")
            signals[name] = signal
        self._models(signals)
        return signals

    def _models(self, signals: dict[str, Signal]) -> None:
        """Compile each model signal's expression over the other signals; check the order
        they can be computed in and their units."""
        for name, signal in signals.items():
            spec = signal.spec
            if spec.model is None:
                continue
            try:
                expr = Expression(spec.model, names=[n for n in signals if n != name] + [name])
            except ExpressionError as exc:
                self.error(("signals", name, "model"), f"signal {name}: model: {exc}")
                continue
            kind = next((k for k in MODEL_STATE if getattr(spec, k)), None)
            signal.model = ModelDef(expr, tuple(sorted(expr.used_names & signals.keys())), kind,
                                    None if kind in (None, "integrate") else getattr(spec, kind))
        models = {n: s.model.inputs for n, s in signals.items() if s.model is not None}
        _, cycles = evaluation_order(models)
        for cycle in cycles:
            self.error(("signals", cycle[0], "model"), f"signal {cycle[0]}: models read each other in a cycle "
                       f"({' -> '.join(cycle)}): none of them can be computed")
        cyclic = {n for c in cycles for n in c}
        units = {n: s.unit for n, s in signals.items()}
        for name in models.keys() - cyclic:
            signal = signals[name]
            try:
                scale = model_unit(signal.model, units, signal.unit)
            except UnitError as exc:
                self.error(("signals", name, "model"), f"signal {name}: model: {exc}")
                continue
            if scale != 1.0:
                signal.model = dataclasses.replace(signal.model, scale=scale)

    def _bindings(self, bindings: list[BindingSpec], assembly: Assembly, signals: dict) -> dict:
        conversions = {}
        for i, b in enumerate(bindings):
            loc = ("bindings", i)
            if b.kind in MOTION_UNITS:
                self._motion_unit(loc, b, signals.get(b.signal), conversions)
            else:
                self._display_units(loc, b, signals, conversions)
            if self.geometry and b.part not in assembly:
                self.unknown_part(loc + (b.kind,), "binding",
                                  f"unknown part {b.part!r}{suggest(b.part, assembly.parts)}")
            if b.signal is not None and b.signal not in signals:
                self.error(loc + ("signal",), f"unknown signal {b.signal!r}{suggest(b.signal, signals)}")
            if b.kind == "field":
                self._field(loc, b, signals, conversions)
            if b.kind in ("colour", "field") and not known_colormap(b.cmap):
                self.error(loc + ("cmap",), f"unknown colour map {b.cmap!r} (e.g. inferno, viridis, coolwarm, turbo)")
            if b.kind == "label":
                try:
                    names = sorted(LabelRule(b.text).names)
                except ValueError as exc:  # also what str.format raises for "{" alone
                    self.error(loc + ("text",), str(exc))
                    continue
                for name in names:
                    if name not in signals:
                        self.error(loc + ("text",), f"label text names unknown signal {name!r}"
                                   f"{suggest(name, signals)}")
        return conversions

    def _field(self, loc: tuple, b: BindingSpec, signals: dict, conversions: dict) -> None:
        """A field's sensors: known signals, in one unit (or converted to the binding's)."""
        units = {}
        for j, sensor in enumerate(b.sensors):
            if sensor.signal not in signals:
                self.error(loc + ("sensors", j, "signal"), f"unknown signal {sensor.signal!r}"
                           f"{suggest(sensor.signal, signals)}")
            elif b.unit is not None:
                try:
                    conversions[(loc[1], sensor.signal)] = conversion(signals[sensor.signal].unit, b.unit)
                except UnitError as exc:
                    self.error(loc + ("sensors", j, "signal"), f"{sensor.signal}: {exc}")
            else:
                units.setdefault(signals[sensor.signal].unit, sensor.signal)
        if len(units) > 1:
            shown = ", ".join(f"{name} in {unit or 'no unit'}" for unit, name in units.items())
            self.error(loc + ("sensors",), f"a field's sensors must be in one unit ({shown}): "
                       "give the binding a unit to show them in")

    def _display_units(self, loc: tuple, b: BindingSpec, signals: dict, conversions: dict) -> None:
        """Colour and label bindings may show a signal in another unit (``unit``, ``units``)."""
        wanted = dict(b.units or {})
        if b.unit is not None and b.signal is not None:
            wanted[b.signal] = b.unit
        for name, unit in wanted.items():
            if name in signals:
                try:
                    conversions[(loc[1], name)] = conversion(signals[name].unit, unit)
                except UnitError as exc:
                    self.error(loc + ("unit" if b.unit else "units",), f"{name}: {exc}")

    def _motion_unit(self, loc: tuple, b: BindingSpec, signal: Signal | None, conversions: dict) -> None:
        """Motion bindings take their signal in degrees, metres or rev/min, converted from
        the signal's unit; a signal in another kind of unit is a load error."""
        if b.unit is not None or b.units is not None:
            key = "unit" if b.unit is not None else "units"
            self.error(loc + (key,), f"a {b.kind} binding converts {b.signal} from its own unit to "
                       f"{MOTION_UNITS[b.kind]} by itself: remove {key!r} (or set the signal's unit)")
        if signal is None:
            return
        try:
            scale = motion_scale(b.kind, signal.unit)
        except UnitError as exc:
            self.error(loc + ("signal",), f"signal {b.signal}: {exc}")
            return
        if scale is not None and not math.isclose(scale, 1.0):
            conversions[(loc[1], b.signal)] = (scale, 0.0)

    def _simulation(self, spec: TwinSpec) -> None:
        for i, sim in enumerate(spec.simulate):
            exprs = sim.fields.items() if sim.fields else [("value", sim.value)]
            for key, source in exprs:
                loc = ("simulate", i, "fields", key) if sim.fields else ("simulate", i, "value")
                try:
                    Expression(source, names=("t",), functions=SIMULATION_FUNCTIONS)
                    if sim.fields and any(isinstance(k, int) and k < 0 for k in parse_field_path(key)):
                        raise FieldPathError(f"field path {key!r}: a simulated payload is built from the "
                                             "start, so it has no negative indices")
                except (ExpressionError, FieldPathError) as exc:
                    self.error(loc, f"simulated {sim.topic} {key}: {exc}")


def _sensor_labels(bindings: list[BindingSpec], signals: dict, conversions: dict) -> list[BindingSpec]:
    """A label at each sensor of every field binding, with its value (and the binding's
    unit conversion); they follow the twin's own bindings."""
    labels = []
    for i, b in enumerate(bindings):
        for sensor in b.sensors or ():
            if sensor.signal in signals:
                unit = b.unit or signals[sensor.signal].unit
                if (i, sensor.signal) in conversions:
                    conversions[(len(bindings) + len(labels), sensor.signal)] = conversions[(i, sensor.signal)]
                labels.append(BindingSpec(label=b.field, text=f"{{{sensor.signal}:.1f}} {pretty_unit(unit)}".strip(),
                                          at=sensor.at))
    return labels


def _stale_after(spec: SignalSpec, twin_default) -> float | None:
    """Seconds after which the signal is stale (None: never): the signal's, the twin's,
    else the default for its kind; never for a model, which is as live as its inputs."""
    if spec.model is not None:
        return None
    setting = spec.stale_after if spec.stale_after is not None else twin_default
    if setting is None:
        setting = "never" if spec.sparkplug is not None else DEFAULT_STALE_AFTER
    return None if setting == "never" else float(setting)


def _and(items: list[str]) -> str:
    """a, b and c"""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
