"""The topic catalog: every topic seen under some filters, for the topic browser.

A second, separate MQTT client, so the twin's own subscriptions stay exactly what it
binds; the browser's filters can be wider (the twin's prefixes, or what a user types).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from viewer.live.mqtt import MqttSource
from viewer.live.sparkplug import SPB_PREFIX, SparkplugHost

PAYLOAD_SHOWN = 200  # bytes of a payload kept for display


@dataclass
class TopicStats:
    """What the browser shows of one topic."""

    payload: bytes = b""
    count: int = 0
    first: float = 0.0
    last: float = 0.0
    retained: bool = False

    def rate(self, now: float) -> float:
        """Messages per second since the topic was first seen."""
        span = max(now - self.first, 1.0)
        return self.count / span if self.count > 1 else 0.0


def twin_prefixes(topics) -> list[str]:
    """Filters covering a twin's topics: the first level of each, with ``#``."""
    return sorted({t.split("/", 1)[0] + "/#" if "/" in t else t for t in topics})


class TopicCatalog(MqttSource):
    """Subscribes to ``filters`` and keeps statistics of every topic seen.

    Parameters are those of :class:`~viewer.live.mqtt.MqttSource`; ``topics`` are
    filters (``+`` and ``#`` allowed).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stats: dict[str, TopicStats] = {}
        self.metrics: dict[tuple, tuple[float | None, float]] = {}  # Sparkplug key -> (value, time)
        self._host = SparkplugHost()  # its own: browsing must not disturb the twin's host
        self._stats_lock = threading.Lock()

    def _on_message(self, client, userdata, message):
        now = time.time()
        with self._stats_lock:
            s = self.stats.get(message.topic)
            if s is None:
                s = self.stats[message.topic] = TopicStats(first=now)
            s.payload = message.payload[:PAYLOAD_SHOWN]
            s.count += 1
            s.last = now
            s.retained = bool(message.retain)
            if message.topic.startswith(SPB_PREFIX):
                for key, value, t in self._host.feed(message.topic, message.payload, now).values:
                    self.metrics[key] = (value, t)

    def snapshot(self) -> tuple[dict[str, TopicStats], dict[tuple, tuple[float | None, float]]]:
        """Copies of the topic statistics and the Sparkplug metrics, for the UI thread."""
        with self._stats_lock:
            stats = {t: TopicStats(s.payload, s.count, s.first, s.last, s.retained) for t, s in self.stats.items()}
            return stats, dict(self.metrics)
