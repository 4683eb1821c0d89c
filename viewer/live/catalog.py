"""The topic catalog: every topic seen under some filters, for the topic browser.

A second, separate MQTT client, so the twin's own subscriptions stay exactly what it
binds; the browser's filters can be wider (the twin's prefixes, or what a user types).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from viewer.live.mqtt import MqttSource
from viewer.live.sparkplug import SPB_PREFIX, SparkplugError, SparkplugHost, decode_payload, metric_value, parse_topic

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
                self._browse_sparkplug(message.topic, message.payload, now)

    def _browse_sparkplug(self, topic: str, payload: bytes, now: float) -> None:
        """Metrics by name once the node's birth was seen; before that (a node already
        running when browsing began) by name or alias as the data carries them. A
        browser never asks a plant's node for a rebirth."""
        events = self._host.feed(topic, payload, now)
        for key, value, t in events.values:
            self.metrics[key] = (value, t)
        where = parse_topic(topic)
        if where is None or events.values or where.message_type not in ("NDATA", "DDATA"):
            return
        try:
            for metric in decode_payload(payload).metrics:
                name = metric.name or f"alias {metric.alias}"
                value = metric_value(metric)
                number = float(value) if isinstance(value, (int, float, bool)) else None
                self.metrics[(where.group, where.node, where.device, name)] = (number, now)
        except SparkplugError:
            pass

    def snapshot(self) -> tuple[dict[str, TopicStats], dict[tuple, tuple[float | None, float]]]:
        """Copies of the topic statistics and the Sparkplug metrics, for the UI thread."""
        with self._stats_lock:
            stats = {t: TopicStats(s.payload, s.count, s.first, s.last, s.retained) for t, s in self.stats.items()}
            return stats, dict(self.metrics)
