"""The sensor simulator: publishes a twin's ``simulate`` section over MQTT.

Each simulated topic has expressions of ``t`` (seconds since start) that may call
``noise(sigma)``; with comparisons and ``clamp`` they draw warm-up curves, duty
cycles and slowly developing faults. It is an ordinary MQTT client, so the viewer
sees exactly what it would see from a plant.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid

import paho.mqtt.client as mqtt

from viewer.live.mqtt import RECONNECT_MAX_S, RECONNECT_MIN_S
from viewer.live.payload import set_path
from viewer.live.worker import Worker
from viewer.twin.expr import Expression
from viewer.twin.fields import parse_field_path
from viewer.twin.url import parse_broker_url

_log = logging.getLogger(__name__)


class Simulator:
    """Publishes simulated readings until stopped.

    Parameters
    ----------
    url : str
        Broker URL.
    topics : list of SimulatedTopic
        The twin's ``simulate`` entries.
    seed : int
        Seed of the noise, so runs repeat.
    speed : float
        Simulated seconds per real second (fast-forwards a slow fault).
    faults : SourceFaults, optional
        A scenario applied to what is published.
    """

    def __init__(self, url: str, topics, seed: int = 7, speed: float = 1.0, faults=None):
        self.host, self.port = parse_broker_url(url)
        self.speed = speed
        self.faults = faults  # a scenario applied to what is published (viewer.live.faults.SourceFaults)
        rng = random.Random(seed)
        functions = {"noise": (lambda sigma: rng.gauss(0.0, sigma), 1, 1)}
        self._jobs = []
        for sim in topics:
            if sim.fields is not None:
                exprs = {parse_field_path(k): Expression(v, names=("t",), functions=functions)
                         for k, v in sim.fields.items()}
            else:
                exprs = {None: Expression(sim.value, names=("t",), functions=functions)}
            self._jobs.append((sim.topic, sim.period, exprs))
        self._failing: set[str] = set()  # topics whose expressions failed (reported once)
        self._start = 0.0
        self.paused = False
        self._sim_anchor, self._real_anchor = 0.0, 0.0  # simulated time at a moment of the real clock
        self._due = [0.0] * len(self._jobs)
        self.worker = Worker("simulator", self._step, 0.05)
        # A client id of its own: two simulators on one broker must not evict each other.
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"twinview-sim-{uuid.uuid4().hex[:8]}")
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)

    def start(self) -> Simulator:
        """Connect and start publishing in a background thread."""
        self._client.connect_async(self.host, self.port)
        self._client.loop_start()
        self._start = self._real_anchor = time.monotonic()
        self.worker.start()
        return self

    def stop(self) -> None:
        """Stop publishing and disconnect."""
        self.worker.stop(timeout=5)
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def sim_time(self) -> float:
        """Simulated seconds since the start: it stands still while paused."""
        if self.paused:
            return self._sim_anchor
        return self._sim_anchor + (time.monotonic() - self._real_anchor) * self.speed

    def set_speed(self, speed: float) -> None:
        """Simulated seconds per real second from now on."""
        self._sim_anchor, self._real_anchor = self.sim_time, time.monotonic()
        self.speed = speed

    def pause(self) -> None:
        """Stop publishing, and the simulated time with it."""
        self._sim_anchor, self._real_anchor = self.sim_time, time.monotonic()
        self.paused = True

    def play(self) -> None:
        """Go on publishing from the simulated time it was paused at."""
        self._real_anchor = time.monotonic()
        self.paused = False

    def document(self, exprs: dict, t: float):
        """The content of one topic at simulated time ``t``: a number or a JSON document."""
        if None in exprs:
            return round(exprs[None]({"t": t}), 4)
        document: dict = {}
        for keys, expr in exprs.items():
            set_path(document, keys, round(expr({"t": t}), 4))
        return document

    def payload(self, exprs: dict, t: float) -> bytes:
        """The payload of one topic at simulated time ``t``."""
        return _encoded(self.document(exprs, t))

    def payloads(self, t: float) -> dict[str, bytes]:
        """Every simulated topic's payload at simulated time ``t`` (a topic whose expressions
        fail there is left out), without a broker: for running a twin faster than real time."""
        out = {}
        for topic, _, exprs in self._jobs:
            try:
                out[topic] = self.payload(exprs, t)
            except (ArithmeticError, ValueError):
                pass
        return out

    def _step(self) -> float:
        """Publish the topics that are due; return the time until the next one is."""
        now = time.monotonic() - self._start
        for i, (topic, period, exprs) in enumerate(self._jobs):
            if now >= self._due[i]:
                self._due[i] = now + period
                if self._client.is_connected() and not self.paused:
                    try:
                        document = self.document(exprs, self.sim_time)
                    except Exception as exc:  # e.g. log(t) at t = 0: skip this one, the others go on
                        if topic not in self._failing:  # reported once, not every period
                            self._failing.add(topic)
                            _log.warning("simulated %s: %s", topic, exc)
                        continue
                    if self.faults is not None:
                        document = self.faults.apply(topic, document, time.time())
                    if document is not None:
                        self._client.publish(topic, _encoded(document))
        return min(self._due, default=1.0) - (time.monotonic() - self._start)


def _encoded(document) -> bytes:
    return repr(document).encode() if isinstance(document, (int, float)) else json.dumps(document).encode()
