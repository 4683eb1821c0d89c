"""Virtual faults at run time: a scenario (:mod:`viewer.twin.scenario`) applied to the
values just decoded, before the behaviour models see them (so a model's residual finds
a virtual fault as it would a real one).

Scenario time starts with the first decode. A fault acts only inside its window; after
it, the signal reads as the machine sends it again. ``freeze`` and ``dropout`` drop the
signal's updates (it turns stale, or offline: its availability is set while the window
lasts). Nothing here publishes: only what this viewer shows changes.
"""

from __future__ import annotations

import math
import random

from viewer.live.payload import PayloadError, extract, set_path, to_number
from viewer.live.updates import Decoded, Update
from viewer.twin.fields import parse_field_path
from viewer.twin.scenario import Scenario


class Faults:
    """A scenario's faults, applied to each decode's updates.

    Parameters
    ----------
    scenario : Scenario
        The checked scenario.
    seed : int
        Seed of the ``noise`` faults, so a training session can be repeated.
    """

    def __init__(self, scenario: Scenario, seed: int = 7):
        self.scenario = scenario
        self.start: float | None = None  # scenario time 0 (epoch seconds)
        self.acted: set[str] = set()  # signals a fault has changed so far: shown as simulated
        self._rng = random.Random(seed)
        self._of: dict[str, list[int]] = {}
        for i, fault in enumerate(scenario.spec.faults):
            self._of.setdefault(fault.signal, []).append(i)
        self._offline: set[int] = set()  # dropouts in force

    def active(self, now: float) -> list[int]:
        """Indices of the faults acting at ``now``."""
        if self.start is None:
            return []
        t = now - self.start
        return [i for i, f in enumerate(self.scenario.spec.faults)
                if f.start <= t and (f.duration is None or t < f.start + f.duration)]

    def apply(self, out: Decoded, now: float) -> None:
        """Change ``out`` in place: the updates of faulted signals, and availability for dropouts."""
        if self.start is None:
            self.start = now
        faults = self.scenario.spec.faults
        active = set(self.active(now))
        for i in active ^ self._offline:  # a dropout that begins or ends
            if faults[i].kind == "dropout":
                out.availability[faults[i].signal] = i not in active
                self._offline ^= {i}
                self.acted.add(faults[i].signal)
        if not active:
            return
        kept = []
        for u in out.updates:
            value, dropped = u.value, False
            for i in self._of.get(u.signal, ()):
                fault, t = faults[i], u.time - self.start - faults[i].start
                if i not in active or t < 0:
                    continue
                kind = fault.kind
                if kind in ("freeze", "dropout"):
                    dropped = True
                elif kind == "ramp":
                    value += fault.ramp * t / 60.0
                elif kind == "step":
                    value += fault.step
                elif kind == "noise":
                    value += self._rng.gauss(0.0, fault.noise)
                elif kind == "oscillate":
                    value += fault.oscillate.amplitude * math.sin(2 * math.pi * t / fault.oscillate.period)
                else:
                    try:
                        value = self.scenario.overrides[i]({"t": t, "value": value})
                    except (ArithmeticError, ValueError):
                        pass  # keeps the value it had: an override curve undefined here
                self.acted.add(u.signal)
            if not dropped:
                kept.append(u if value == u.value else u._replace(value=float(value)))
        out.updates[:] = kept


class SourceFaults:
    """A scenario applied where simulated data is made (``twinview simulate --scenario``):
    each published document changed before it leaves, so every viewer sees the fault.

    A fault can be applied at the source to a signal read from a topic as it is: a field
    or the whole payload, without ``expr`` or ``map`` (their inverse is not known).
    ``freeze`` leaves the field out of the payload; ``dropout`` the whole topic.

    Parameters
    ----------
    scenario : Scenario
        The checked scenario.
    signals : dict of str to Signal
        The twin's signals.

    Raises
    ------
    ValueError
        Naming the faults whose signals cannot be faulted at the source.
    """

    def __init__(self, scenario: Scenario, signals: dict, seed: int = 7):
        self.faults = Faults(scenario, seed)
        self.by_topic: dict[str, list[tuple[str, tuple | None]]] = {}
        refused = []
        for name in dict.fromkeys(f.signal for f in scenario.spec.faults):
            spec = signals[name].spec
            if spec.topic is None or spec.expr is not None or spec.map is not None:
                refused.append(name)
                continue
            self.by_topic.setdefault(spec.topic, []).append((name, parse_field_path(spec.field) if spec.field else None))
        if refused:
            raise ValueError(f"{', '.join(refused)}: computed from what is published (expr, map, model or Sparkplug), "
                             "so a fault cannot be put into the published data; apply the scenario in the viewer "
                             "(--scenario on open, replay or watch)")

    def apply(self, topic: str, document, now: float):
        """``document`` (a parsed payload) with the faults on ``topic``'s signals applied;
        None when the topic is not to be published now (a dropout)."""
        readers = self.by_topic.get(topic)
        if self.faults.start is None:
            self.faults.start = now
        if not readers:
            return document
        active = [self.faults.scenario.spec.faults[i] for i in self.faults.active(now)]
        if any(f.kind == "dropout" and f.signal in dict(readers) for f in active):
            self.faults.acted.update(name for name, _ in readers)
            return None
        for name, keys in readers:
            try:  # read as the viewer will read it
                value = to_number(document) if keys is None else extract(document, keys)
            except PayloadError:
                continue
            out = Decoded(updates=[Update(name, value, now)])
            self.faults.apply(out, now)
            if keys is None:
                return out.updates[0].value if out.updates else None
            if out.updates:
                set_path(document, keys, round(out.updates[0].value, 4))
            else:
                _remove(document, keys)  # frozen: the device stops sending it
        return document


def _remove(document, keys) -> None:
    """Take the field at ``keys`` out of ``document`` (a frozen sensor sends nothing)."""
    parent = document
    for key in keys[:-1]:
        parent = parent[key]  # there: its value was just read
    if isinstance(parent, dict):
        parent.pop(keys[-1], None)
