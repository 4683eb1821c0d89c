"""Raw payloads -> signal values, for the topics that changed since the last frame.

Tables are built once per twin (topic -> signals); each frame decodes a topic's
payload once, however many signals read from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.live.payload import PayloadError, extract, parse_field_path, parse_json, to_number
from viewer.twin.loader import Signal


@dataclass(frozen=True)
class Update:
    """A new value of one signal."""

    signal: str
    value: float
    time: float


@dataclass(frozen=True)
class DecodeError:
    """A payload that could not give a value for a signal."""

    signal: str
    reason: str
    time: float


class Ingest:
    """Decodes payloads for a twin's signals.

    Parameters
    ----------
    signals : dict of str to Signal
        The twin's signals.
    """

    def __init__(self, signals: dict[str, Signal]):
        self.by_topic: dict[str, list[tuple[Signal, tuple | None]]] = {}
        for signal in signals.values():
            keys = parse_field_path(signal.spec.field) if signal.spec.field else None
            self.by_topic.setdefault(signal.spec.topic, []).append((signal, keys))

    @property
    def topics(self) -> list[str]:
        """Topics to subscribe to."""
        return list(self.by_topic)

    def decode(self, latest: dict[str, tuple[bytes, float]]) -> tuple[list[Update], list[DecodeError]]:
        """Turn the newest payload of each changed topic into updates and errors."""
        updates, errors = [], []
        for topic, (payload, t) in latest.items():
            readers = self.by_topic.get(topic)
            if not readers:
                continue
            try:
                document = parse_json(payload)
            except PayloadError as exc:
                errors.extend(DecodeError(s.name, str(exc), t) for s, _ in readers)
                continue
            for signal, keys in readers:
                try:
                    value = extract(document, keys) if keys else to_number(document)
                    if signal.expr is not None:
                        value = signal.expr({"value": value})
                        to_number(value)  # NaN or inf from the expression is an error too
                except PayloadError as exc:
                    errors.append(DecodeError(signal.name, str(exc), t))
                except (ArithmeticError, ValueError, TypeError) as exc:
                    errors.append(DecodeError(signal.name, f"expression failed: {exc}", t))
                else:
                    updates.append(Update(signal.name, value, t))
        return updates, errors
