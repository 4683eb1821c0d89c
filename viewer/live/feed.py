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

PERIOD_S = 0.004  # how often the feed decodes what arrived


class LiveFeed:
    """Moves what ``source`` receives into ``state`` until stopped.

    Parameters
    ----------
    source : MqttSource
        Where raw payloads arrive.
    ingest : Ingest
        The twin's decoding tables.
    state : viewer.state.TwinState
        Updated only by this feed's thread once started (only its ``apply_decoded`` is used).
    """

    def __init__(self, source: MqttSource, ingest: Ingest, state):
        self.source, self.ingest, self.state = source, ingest, state
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the source and the decoding thread."""
        self.source.start()
        self._thread = threading.Thread(target=self._run, name="twinview-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop decoding and the source."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.source.stop()

    def step(self) -> Decoded:
        """Decode what arrived since the last step and apply it to the state; return it."""
        decoded = self.ingest.decode(self.source.drain(), self.source.drain_ordered())
        for topic, payload in decoded.commands:  # e.g. a Sparkplug rebirth request
            self.source.publish(topic, payload)
        if decoded.updates or decoded.errors or decoded.availability:
            with self._lock:
                self._dirty |= self.state.apply_decoded(decoded)
        return decoded

    def take(self) -> set[str]:
        """Names of the signals whose value changed since the last take."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        return dirty

    def _run(self) -> None:
        while not self._stop.wait(PERIOD_S):
            self.step()
