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
# At most this many topics and Sparkplug metrics are kept: a busy broker has far more.
MAX_TOPICS = MAX_METRICS = 10_000


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
    """Subscribes to ``filters`` and keeps statistics of every topic seen, up to
    :attr:`max_topics` topics and :attr:`max_metrics` Sparkplug metrics.

    Parameters are those of :class:`~viewer.live.mqtt.MqttSource`; ``topics`` are
    filters (``+`` and ``#`` allowed).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_topics, self.max_metrics = MAX_TOPICS, MAX_METRICS
        self.stats: dict[str, TopicStats] = {}
        self.metrics: dict[tuple, tuple[float | None, float]] = {}  # Sparkplug key -> (value, time)
        # Seen beyond the limits, not kept: names only to count them once, themselves bounded.
        self._unshown_topics: set[str] = set()
        self._unshown_metrics: set[tuple] = set()
        self._host = SparkplugHost()  # its own: browsing must not disturb the twin's host
        self._stats_lock = threading.Lock()

    def _store(self, messages: list[tuple[str, bytes, bool]], qos: int = 0, now: float | None = None) -> None:
        now = time.time()
        for topic, payload, retained in messages:
            # Decoding is the slow part: outside the lock, so snapshot() never keeps the UI waiting.
            # The host is only used here, on the network thread.
            metrics = self._browse_sparkplug(topic, payload, now) if topic.startswith(SPB_PREFIX) else []
            with self._stats_lock:
                s = self.stats.get(topic)
                if s is None and _room(self.stats, topic, self.max_topics, self._unshown_topics):
                    s = self.stats[topic] = TopicStats(first=now)
                if s is not None:
                    s.payload = payload[:PAYLOAD_SHOWN]
                    s.count += 1
                    s.last = now
                    s.retained = retained
                for key, value in metrics:
                    if _room(self.metrics, key, self.max_metrics, self._unshown_metrics):
                        self.metrics[key] = value

    def _browse_sparkplug(self, topic: str, payload: bytes, now: float) -> list[tuple[tuple, tuple]]:
        """Metrics by name once the node's birth was seen; before that (a node already
        running when browsing began) by name or alias as the data carries them. A
        browser never asks a plant's node for a rebirth."""
        events = self._host.feed(topic, payload, now)
        metrics = [(key, (value, t)) for key, value, t in events.values]
        where = parse_topic(topic)
        if where is None or events.values or where.message_type not in ("NDATA", "DDATA"):
            return metrics
        try:
            for metric in decode_payload(payload).metrics:
                name = metric.name or f"alias {metric.alias}"
                value = metric_value(metric)
                number = float(value) if isinstance(value, (int, float, bool)) else None
                metrics.append(((where.group, where.node, where.device, name), (number, now)))
        except SparkplugError:
            pass
        return metrics

    def snapshot(self) -> tuple[dict[str, TopicStats], dict[tuple, tuple[float | None, float]]]:
        """Copies of the topic statistics and the Sparkplug metrics, for the UI thread."""
        with self._stats_lock:
            stats = {t: TopicStats(s.payload, s.count, s.first, s.last, s.retained) for t, s in self.stats.items()}
            return stats, dict(self.metrics)

    def unshown(self) -> tuple[int, int]:
        """How many topics and metrics were seen beyond the limits and are not kept.

        Each count stops at its limit (:attr:`max_topics`, :attr:`max_metrics`): there may be more.
        """
        with self._stats_lock:
            return len(self._unshown_topics), len(self._unshown_metrics)


def _room(table: dict, key, limit: int, unshown: set) -> bool:
    """Whether ``key`` is in ``table`` or fits in it; if not, it is counted in ``unshown``."""
    if key in table or len(table) < limit:
        return True
    if len(unshown) < limit:
        unshown.add(key)
    return False
