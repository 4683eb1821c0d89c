"""What a source has received and the feed has not yet taken: the newest payload per
topic, and the messages whose order matters, bounded whatever the rate.

A payload replaced before it was drained is dropped there and then, never decoded
(counted in :attr:`Inbox.superseded`), so under a flood nothing queues: memory stays
flat and latency bounded. Sparkplug B messages depend on their order (births, aliases,
sequence numbers): they are queued instead, up to :data:`ORDERED_MAX`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

ORDERED_PREFIX, ORDERED_MAX = "spBv1.0/", 20_000


class Inbox:
    """The receiving end shared by the sources (MQTT, a recording being replayed)."""

    def __init__(self):
        self._lock = threading.Lock()  # guards _latest, _ordered, _lost and the counts
        # In order of first arrival since drained: a topic's newer payload keeps its place.
        self._latest: OrderedDict[str, tuple[bytes, float, bool]] = OrderedDict()
        self._ordered: deque[tuple[str, bytes, float]] = deque(maxlen=ORDERED_MAX)
        self._lost: dict[str, tuple[int, float]] = {}  # topic -> (messages the full queue lost, when)
        self.dropped = 0  # ordered messages lost since start: the viewer fell behind
        self.received = 0  # messages since start, for rates
        self.superseded = 0  # payloads replaced by a newer one of their topic before a drain
        #: Called with every batch of messages as it arrives, ``tap(messages, time, qos)``:
        #: a :class:`~viewer.live.recorder.Recorder`'s ``add``.
        self.tap = None

    def _store(self, messages: list[tuple[str, bytes, bool]], qos: int = 0, now: float | None = None) -> None:
        # As little as possible: the network thread also reads the socket, and whatever it is
        # late reading queues in the kernel. Decoding happens on the feed thread.
        now = time.time() if now is None else now
        tap = self.tap
        if tap is not None:  # a recorder: every message, before any is superseded
            tap(messages, now, qos)
        with self._lock:
            self.received += len(messages)
            latest = self._latest
            for topic, payload, retained in messages:
                if topic.startswith(ORDERED_PREFIX):
                    self._queue(topic, payload, now)
                    continue
                if topic in latest:  # newest wins: the older payload was never decoded
                    self.superseded += 1
                latest[topic] = (payload, now, retained)

    def _queue(self, topic: str, payload: bytes, now: float) -> None:
        if len(self._ordered) == self._ordered.maxlen:  # full: appending drops the oldest
            lost, _, t = self._ordered[0]
            count, _ = self._lost.get(lost, (0, t))
            self._lost[lost] = (count + 1, t)
            self.dropped += 1
        self._ordered.append((topic, payload, now))

    def drain(self, limit: int | None = None) -> dict[str, tuple[bytes, float, bool]]:
        """Newest ``(payload, receive time, retained)`` per topic since the last drain.

        With ``limit``, at most that many topics, those waiting longest: the others stay
        for the next drain (see :meth:`pending`), and keep being replaced meanwhile.
        """
        with self._lock:
            latest = self._latest
            if limit is None or len(latest) <= limit:
                self._latest = OrderedDict()
                return latest
            return dict(latest.popitem(last=False) for _ in range(limit))

    def pending(self) -> int:
        """How many topics have a payload waiting for :meth:`drain`."""
        return len(self._latest)

    def drain_ordered(self) -> list[tuple[str, bytes | int, float]]:
        """Every queued ``(topic, payload, receive time)`` whose order matters, oldest first.

        Messages the full queue dropped (the oldest) come first, one ``(topic, count, time)``
        per topic: the number lost instead of a payload, and when the last of them arrived.
        """
        with self._lock:
            ordered = [(topic, count, t) for topic, (count, t) in self._lost.items()] + list(self._ordered)
            self._ordered.clear()
            self._lost = {}
        return ordered
