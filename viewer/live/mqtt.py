"""The live MQTT source: a paho client whose callback only stores the newest payload.

The network thread never touches the UI or the scene: ``on_message`` keeps the
latest raw payload per topic (newest wins, so memory stays bounded under a flood)
and the UI timer takes them all at once with :meth:`MqttSource.drain`.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 4


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used."""


def parse_broker_url(url: str) -> tuple[str, int]:
    """Host and port from ``mqtt://host[:port]`` (default port 1883)."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise BrokerUrlError(f"bad broker URL {url!r} (expected mqtt://host:port)")
    try:
        port = parsed.port or 1883
    except ValueError:
        raise BrokerUrlError(f"bad port in broker URL {url!r}") from None
    return parsed.hostname, port


@dataclass(frozen=True)
class ConnectionStatus:
    """What the status bar shows about the broker connection."""

    state: str  # "connecting", "live", "reconnecting" or "stopped"
    url: str
    attempts: int = 0  # failed attempts since the last good connection
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.state} · {self.url}"
        if self.state == "reconnecting" and self.attempts:
            text += f" (attempt {self.attempts})"
        return text + (f" · {self.detail}" if self.detail else "")


class MqttSource:
    """Subscribes to ``topics`` on ``url`` and keeps the newest payload of each.

    Connecting, DNS and reconnecting all happen on paho's network thread, so
    :meth:`start` returns at once and the UI never waits for the network.

    Parameters
    ----------
    url : str
        ``mqtt://host:port``.
    topics : iterable of str
        Topics (or filters) to subscribe to, deduplicated.
    """

    def __init__(self, url: str, topics):
        self.url = url
        self.host, self.port = parse_broker_url(url)
        self.topics = sorted(set(topics))
        self._lock = threading.Lock()  # guards _latest, received and _status
        self._latest: dict[str, tuple[bytes, float, bool]] = {}
        self._status = ConnectionStatus("connecting", url)
        self._stopped = False
        self.received = 0  # messages since start, for rates
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"twinview-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message

    # -- network thread -------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self._set_status("reconnecting", detail=str(reason_code), failed=True)
            return
        if self.topics:  # re-subscribe on every connect: the broker may have forgotten us
            client.subscribe([(topic, 0) for topic in self.topics])
        self._set_status("live")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self._set_status("reconnecting", detail="connection lost")

    def _on_connect_fail(self, client, userdata):
        self._set_status("reconnecting", detail="broker unreachable", failed=True)

    def _on_message(self, client, userdata, message):
        # Nothing else here: decoding happens on the UI timer, once per frame.
        now = time.time()
        with self._lock:
            self._latest[message.topic] = (message.payload, now, bool(message.retain))
            self.received += 1

    def _set_status(self, state: str, detail: str = "", failed: bool = False) -> None:
        with self._lock:
            if self._stopped:  # a callback already under way when stop() was called
                return
            old = self._status.attempts
            attempts = old + 1 if failed else (0 if state == "live" else old)
            self._status = ConnectionStatus(state, self.url, attempts, detail)

    # -- UI thread ------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and keep reconnecting until :meth:`stop`."""
        self._client.connect_async(self.host, self.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and end the network thread, without waiting for it.

        The thread may be inside a slow connect or DNS lookup; the UI must not wait
        for that, so it is joined on a helper thread.
        """
        with self._lock:
            self._stopped = True
            self._status = ConnectionStatus("stopped", self.url)
        self._client.disconnect()
        threading.Thread(target=self._client.loop_stop, name="twinview-mqtt-stop", daemon=True).start()

    def drain(self) -> dict[str, tuple[bytes, float, bool]]:
        """Newest ``(payload, receive time, retained)`` per topic since the last drain."""
        with self._lock:
            latest, self._latest = self._latest, {}
        return latest

    @property
    def status(self) -> ConnectionStatus:
        """The connection state for display."""
        return self._status
