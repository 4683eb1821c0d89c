"""What decoding gives: new values, decode errors, availability and commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Update(NamedTuple):  # a tuple: made for every message, four times cheaper than a dataclass
    """A new value of one signal."""

    signal: str
    value: float
    time: float  # the sample's own time when the payload says, else when it arrived
    received: float | None = None  # when it arrived (defaults to ``time``)
    retained: bool = False  # the broker's retained copy, seen at (re)connect


@dataclass(frozen=True)
class DecodeError:
    """A payload that could not give a value for a signal."""

    signal: str
    reason: str
    time: float


@dataclass
class Decoded:
    """What one drain of the source gave."""

    updates: list[Update] = field(default_factory=list)
    errors: list[DecodeError] = field(default_factory=list)
    availability: dict[str, bool] = field(default_factory=dict)  # signal -> online
    commands: list[tuple[str, bytes]] = field(default_factory=list)  # to publish (Sparkplug rebirths)
