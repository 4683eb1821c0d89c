"""Raw payloads -> signal values, for the topics that changed since the last frame.

Tables are built once per twin (topic -> signals); each frame decodes a topic's
payload once, however many signals read from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from viewer.live.faults import Faults
from viewer.live.models import Models
from viewer.live.payload import MAX_PAYLOAD, PayloadError, extract, parse_json, to_number
from viewer.live.sparkplug import SPB_PREFIX, SparkplugHost, parse_topic
from viewer.live.updates import Decoded, DecodeError, Update
from viewer.twin.fields import parse_field_path
from viewer.twin.loader import Signal
from viewer.twin.scenario import Scenario


@dataclass(frozen=True)
class _Reader:
    signal: Signal
    keys: tuple | None
    time_keys: tuple | None


class Ingest:
    """Decodes payloads for a twin's signals.

    Parameters
    ----------
    signals : dict of str to Signal
        The twin's signals.
    scenario : Scenario, optional
        Virtual faults to apply to the decoded values (:mod:`viewer.live.faults`).
    """

    def __init__(self, signals: dict[str, Signal], scenario: Scenario | None = None):
        self.signals = signals
        self.faults = Faults(scenario) if scenario is not None else None  # virtual faults, applied here
        self.by_topic: dict[str, list[_Reader]] = {}
        self.availability: dict[str, list[tuple[str, str, str]]] = {}  # topic -> (signal, online, offline)
        self.by_metric: dict[tuple, list[str]] = {}  # Sparkplug (group, node, device, metric) -> signals
        self.models = Models({s.name: s.model for s in signals.values() if s.model is not None})
        for signal in signals.values():
            spec = signal.spec
            if spec.model is not None:
                continue  # computed from the others (below, in decode)
            if spec.sparkplug is not None:
                sp = spec.sparkplug
                self.by_metric.setdefault((sp.group, sp.node, sp.device, sp.metric), []).append(signal.name)
                continue
            keys = parse_field_path(spec.field) if spec.field else None
            time_keys = parse_field_path(spec.time_field) if spec.time_field else None
            self.by_topic.setdefault(spec.topic, []).append(_Reader(signal, keys, time_keys))
            if spec.availability is not None:
                a = spec.availability
                self.availability.setdefault(a.topic, []).append((signal.name, a.online, a.offline))
        self._host = SparkplugHost() if self.by_metric else None

    @property
    def topics(self) -> list[str]:
        """Topics to subscribe to: the signals' and their availability topics."""
        return list(self.subscriptions)

    @property
    def subscriptions(self) -> dict[str, int]:
        """Topic -> QoS to subscribe with (the highest any of its signals asks for;
        availability topics at QoS 1, so a Last Will is not lost)."""
        qos = dict.fromkeys(self.availability, 1)
        for (group, node, _, _), names in self.by_metric.items():
            # births, data and deaths (a Last Will: at least QoS 1) of the node and its devices
            topic = f"{SPB_PREFIX}/{group}/+/{node}/#"
            qos[topic] = max([qos.get(topic, 1), *(self.signals[n].spec.qos for n in names)])
        for topic, readers in self.by_topic.items():
            qos[topic] = max([qos.get(topic, 0), *(r.signal.spec.qos for r in readers)])
        return qos

    def decode(self, latest: dict[str, tuple[bytes, float, bool]], ordered=(), now: float | None = None) -> Decoded:
        """Turn the newest payload of each changed topic, and the ordered Sparkplug
        messages, into updates, errors, availability changes and commands; the model
        signals these updates move are computed last (:mod:`viewer.live.models`)."""
        out = Decoded()
        now = time.time() if now is None else now
        if self.by_metric:
            try:
                self._sparkplug(ordered, now, out)
            except Exception as exc:  # a bug here must cost these messages, never the live feed
                names = [n for names in self.by_metric.values() for n in names]
                out.errors.extend(DecodeError(n, _unexpected(exc), now) for n in names)
        for topic, (payload, t, retained) in latest.items():
            try:
                self._availability(topic, payload, t, out)
                readers = self.by_topic.get(topic)
                if readers:
                    self._decode_topic(payload, t, retained, readers, out)
            except Exception as exc:  # as above: one message lost, counted, the feed goes on
                names = [r.signal.name for r in self.by_topic.get(topic, ())]
                names += [name for name, _, _ in self.availability.get(topic, ())]
                out.errors.extend(DecodeError(n, _unexpected(exc), t) for n in names)
        if self.faults is not None:
            self.faults.apply(out, now)
        if self.models.defs and out.updates:
            derived, failed = self.models.derive(out.updates, now)
            out.updates += derived
            out.errors += failed
        return out

    def _availability(self, topic: str, payload: bytes, t: float, out: Decoded) -> None:
        for name, online, offline in self.availability.get(topic, ()):
            text = payload[:200].decode("utf-8", errors="replace").strip()
            if text in (online, offline):
                out.availability[name] = text == online
            else:
                out.errors.append(DecodeError(name, f"availability {text[:40]!r} is neither "
                                                    f"{online!r} nor {offline!r}", t))

    def _sparkplug(self, ordered, now: float, out: Decoded) -> None:
        """Feed the Sparkplug host; map its metric events onto the twin's signals."""
        events = []
        for topic, payload, t in ordered:
            try:
                # A count instead of a payload: that many messages were dropped, the source fell behind.
                events.append(self._host.lost(topic, payload, t) if isinstance(payload, int)
                              else self._host.feed(topic, payload, t))
            except Exception as exc:  # a bug here must cost this message, never the live feed
                out.errors.extend(DecodeError(n, f"{topic}: {_unexpected(exc)}", t) for n in self._concerned(f"{topic}: "))
        events.append(self._host.tick(now))
        for ev in events:
            for key, value, t in ev.values:
                for name in self.by_metric.get(key, ()):
                    signal = self.signals[name]
                    try:
                        if value is None:
                            raise PayloadError("the metric's value is not a number")
                        value = to_number(value)  # NaN and infinities are refused, as in JSON
                        if signal.expr is not None:
                            value = to_number(signal.expr({"value": value}))
                    except (PayloadError, ArithmeticError, ValueError, TypeError) as exc:
                        out.errors.append(DecodeError(name, str(exc), t))
                    else:
                        out.updates.append(Update(name, value, t, now))
            for key, online in ev.online.items():
                for name in self.by_metric.get(key, ()):
                    out.availability[name] = online
            for text in ev.problems:  # told to the signals of the node or device it is about
                out.errors.extend(DecodeError(n, text, now) for n in self._concerned(text))
            out.commands.extend(ev.commands)

    def _concerned(self, problem: str) -> list[str]:
        """Signals of the node (or device) a Sparkplug problem names ("<topic>: ...")."""
        where = problem.split(": ", 1)[0]
        topic = parse_topic(where)
        group, node, device = (topic.group, topic.node, topic.device) if topic else ((where.split("/") + ["", ""])[:2] + [None])
        return [n for (g, nd, dev, _), names in self.by_metric.items()
                if (g, nd) == (group, node) and (device is None or dev == device) for n in names]

    def _decode_topic(self, payload: bytes, t: float, retained: bool, readers, out: Decoded) -> None:
        try:
            document, json_error = parse_json(payload), None
        except PayloadError as exc:
            document, json_error = None, exc
            if payload[:1] != b"{" and len(payload) <= MAX_PAYLOAD:
                try:  # plain text such as RUNNING, for a signal with a map
                    document = payload.decode("utf-8").strip()
                except UnicodeDecodeError:
                    pass
        for r in readers:
            signal = r.signal
            try:
                if document is None or (r.keys and json_error is not None):
                    raise json_error
                value = extract(document, r.keys, signal.spec.map) if r.keys else to_number(document, signal.spec.map)
                if signal.expr is not None:
                    value = to_number(signal.expr({"value": value}))  # NaN or inf from it is an error too
                sample_time = _timestamp(extract(document, r.time_keys)) if r.time_keys else t
            except PayloadError as exc:
                out.errors.append(DecodeError(signal.name, str(exc), t))
            except (ArithmeticError, ValueError, TypeError) as exc:
                out.errors.append(DecodeError(signal.name, f"expression failed: {exc}", t))
            else:
                out.updates.append(Update(signal.name, value, sample_time, t, retained))


def _unexpected(exc: Exception) -> str:
    return f"could not decode ({type(exc).__name__}: {str(exc)[:80]})"


def _timestamp(value: float) -> float:
    """Epoch seconds from a payload's time field (seconds or milliseconds)."""
    return value / 1000.0 if value > 1e11 else value
