"""The live feed: raw payloads -> decoded values -> twin state, on a thread of its own.

Decoding runs every few milliseconds instead of once per UI frame, so a value is in
the state within milliseconds of its arrival even while the UI thread is busy
rendering (a frame costs 20-40 ms on software GL, and VTK releases the GIL while
it renders). The UI frame only takes the names that changed.
"""

from __future__ import annotations

import threading

from viewer.live.ingest import Decoded, Ingest
from viewer.live.mqtt import MqttSource
from viewer.live.worker import Worker

PERIOD_S = 0.004  # how often the feed decodes what arrived
# Topics decoded and applied at a time, those waiting longest first: under a flood the
# rest keep being replaced by newer payloads meanwhile, so each value is decoded fresh
# (a whole backlog decoded at once would be old by the time it is all applied).
CHUNK = 500


class LiveFeed:
    """Moves what ``source`` receives into ``state`` until stopped.

    Parameters
    ----------
    source : MqttSource
        Where raw payloads arrive.
    ingest : Ingest
        The twin's decoding tables.
    state : viewer.state.TwinState
        Updated only by this feed once started (only its ``apply_decoded`` is used).
    """

    def __init__(self, source: MqttSource, ingest: Ingest, state):
        self.source, self.ingest, self.state = source, ingest, state
        self._lock = threading.Lock()  # guards _dirty only: the UI's take() never waits for decoding
        self._dirty: set[str] = set()
        self.worker = Worker("live feed", self._step_on_thread, PERIOD_S)

    def start(self) -> None:
        """Start the source and the decoding thread."""
        self.source.start()
        self.worker.start()

    def stop(self) -> None:
        """Stop decoding and the source."""
        self.worker.stop()
        self.source.stop()

    def step(self) -> Decoded:
        """Decode what arrived since the last step and apply it to the state; return it."""
        decoded = self.ingest.decode(self.source.drain(CHUNK), self.source.drain_ordered(), self.source.now())
        for topic, payload in decoded.commands:  # e.g. a Sparkplug rebirth request
            self.source.publish(topic, payload)
        if decoded.updates or decoded.errors or decoded.availability:
            dirty = self.state.apply_decoded(decoded)
            with self._lock:
                self._dirty |= dirty
        return decoded

    def _step_on_thread(self) -> float | None:
        self.step()
        return 0.0 if self.source.pending() else None  # more waiting: go on, else wait PERIOD_S

    def take(self) -> set[str]:
        """Names of the signals whose value changed since the last take."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        return dirty
