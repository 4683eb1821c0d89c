"""The live MQTT source: a paho client whose callback only stores the newest payload.

The network thread never touches the UI or the scene: it keeps the latest raw payload
per topic in an :class:`~viewer.live.inbox.Inbox`, and the feed takes them with
:meth:`~viewer.live.inbox.Inbox.drain`.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from viewer.live.inbox import Inbox
from viewer.twin.schema import BrokerSpec
from viewer.twin.tls import TlsError, tls_context
from viewer.twin.url import is_tls_url, parse_broker_url

RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 4
READ_SIZE = 256 * 1024  # bytes the network thread asks the socket for at once
READ_BATCH = 1000  # rounds through the buffer before paho sees to its writes and timers


class _ReadAhead:
    """A socket whose ``recv`` reads all that has arrived and hands it out in pieces.

    paho reads each packet with three ``recv`` calls (its first byte, its length, its
    body) and a ``select`` before each packet: under a flood those system calls cost
    more than the rest of the client, and what it cannot read in time queues in the
    kernel. paho asks ``pending()`` (meant for a TLS socket's own buffer) before it
    waits on the socket, so bytes held here are handled without waiting.
    """

    def __init__(self, sock):
        self._sock = sock
        self._buffer, self._pos = b"", 0

    def recv(self, size: int) -> bytes:
        if self._pos == len(self._buffer):
            self._buffer, self._pos = self._sock.recv(READ_SIZE), 0
        data = self._buffer[self._pos:self._pos + size]
        self._pos += len(data)
        return data

    def buffered(self) -> int:
        return len(self._buffer) - self._pos

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)
        return self.buffered() + (inner() if inner is not None else 0)

    def take_publishes(self) -> list[tuple[str, bytes, bool]]:
        """``(topic, payload, retained)`` of the whole QoS 0 PUBLISH packets (MQTT 3.1.1)
        at the head of the buffer, taken out of it; the first other packet stops it."""
        buf, pos, end = self._buffer, self._pos, len(self._buffer)
        out = []
        while pos < end and buf[pos] & 0xF6 == 0x30:  # PUBLISH at QoS 0 (its retain bit aside)
            length, shift, i = 0, 0, pos + 1
            while i < end and shift < 28:  # the remaining length: 1 to 4 bytes, 7 bits each
                length |= (buf[i] & 127) << shift
                shift += 7
                i += 1
                if buf[i - 1] < 128:
                    break
            else:
                break  # cut off by the end of the buffer, or malformed: paho's to read
            body = i + 2
            size = (buf[i] << 8 | buf[i + 1]) if body <= end else 0
            if size == 0 or i + length > end or body + size > i + length:
                break
            try:
                topic = buf[body:body + size].decode()
            except UnicodeDecodeError:
                break
            out.append((topic, buf[body + size:i + length], bool(buf[pos] & 1)))
            pos = i + length
        self._pos = pos
        return out

    def __getattr__(self, name):  # send, fileno, close, ...
        return getattr(self._sock, name)


class _Client(mqtt.Client):
    """paho's client reading through :class:`_ReadAhead`.

    The QoS 0 publishes of MQTT 3.1.1, nearly all of a flood, are cut from the buffer
    and handed to ``on_publishes`` as a batch, without paho's message objects and
    locks (a third of its cost per message); paho handles every other packet.
    """

    on_publishes = None  # callable taking a list of (topic, payload, retained)

    def _create_socket(self):
        return _ReadAhead(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        sock = self._sock
        rc = super().loop_read(max_packets)
        if not isinstance(sock, _ReadAhead):
            return rc
        fast = self.on_publishes is not None and self._protocol != mqtt.MQTTv5
        for _ in range(READ_BATCH):
            if rc or self._sock is not sock or not sock.buffered():
                break
            if fast and self._in_packet["command"] == 0:  # between two packets
                messages = sock.take_publishes()
                if messages:
                    with self._msgtime_mutex:  # the keep-alive counts what arrived
                        self._last_bytes_received = mqtt.time_func()
                    self.on_publishes(messages)
                if not sock.buffered():
                    break
            rc = super().loop_read(max_packets)  # a packet paho reads itself
        return rc


@dataclass(frozen=True)
class ConnectionStatus:
    """What the status bar shows about the broker connection."""

    state: str  # "connecting", "live", "reconnecting", "stopped", or "replay" (a recording plays)
    url: str
    attempts: int = 0  # failed attempts since the last good connection
    detail: str = ""
    since: float | None = None  # when the current connection was made (epoch), while live

    @property
    def up(self) -> bool:
        """Data is coming: a live connection, or a recording playing."""
        return self.state in ("live", "replay")

    def __str__(self) -> str:
        text = f"{self.state} · {self.url}"
        if self.state == "reconnecting" and self.attempts:
            text += f" (attempt {self.attempts})"
        return text + (f" · {self.detail}" if self.detail else "")


class MqttSource(Inbox):
    """Subscribes to ``topics`` on ``url`` and keeps the newest payload of each.

    Connecting, DNS and reconnecting all happen on paho's network thread, so
    :meth:`start` returns at once and the UI never waits for the network.

    Parameters
    ----------
    url : str
        ``mqtt://host:port`` or ``mqtts://host:port``.
    topics : iterable of str, or dict of str to int
        Topics to subscribe to (deduplicated), or topic -> QoS.
    options : BrokerSpec, optional
        Protocol, client id and session, TLS and login (TLS paths absolute).
    password : str, optional
        For ``options.username``; never logged or stored.
    """

    def __init__(self, url: str, topics, options: BrokerSpec | None = None, password: str | None = None):
        self.url = url
        self.host, self.port = parse_broker_url(url)
        self.options = options = options or BrokerSpec(url=url)
        qos = topics if isinstance(topics, dict) else dict.fromkeys(topics, 0)
        self.topics = {topic: qos[topic] for topic in sorted(qos)}
        super().__init__()  # the inbox; its lock also guards _status
        self._status = ConnectionStatus("connecting", url)
        self._stopped = False
        self._v5 = options.protocol == "5"
        persistent = options.client_id is not None
        # TLS follows the URL actually used (a --broker override may change the scheme). Built
        # before the client, which opens sockets of its own: a bad file must leave nothing open.
        try:
            self._tls = tls_context(options.tls) if (options.tls is not None or is_tls_url(url)) else None
        except TlsError as exc:  # checked when the twin loads; the file may have changed since
            raise SourceError(str(exc)) from None
        self._client = _Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=options.client_id or f"twinview-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if self._v5 else mqtt.MQTTv311,
            clean_session=None if self._v5 else not persistent,
        )
        if self._tls is not None:
            self._client.tls_set_context(self._tls)
            self._client.tls_insecure_set(bool(options.tls and options.tls.insecure))
        if options.username:
            self._client.username_pw_set(options.username, password)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message
        self._client.on_publishes = self._store

    # -- network thread -------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self._set_status("reconnecting", detail=str(reason_code), failed=True)
            return
        if self.topics:  # re-subscribe on every connect: the broker may have forgotten us
            client.subscribe(list(self.topics.items()))
        insecure = self.options.tls is not None and self.options.tls.insecure
        self._set_status("live", detail="TLS NOT VERIFIED" if insecure else "", since=time.time())

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if self._status.state != "reconnecting":  # keep the reason of a refused connect
            self._set_status("reconnecting", detail="connection lost")

    def _on_connect_fail(self, client, userdata):
        self._set_status("reconnecting", detail=self._why_not(), failed=True)

    def _why_not(self) -> str:
        """Why the last connect failed, found by trying once more by hand (paho keeps
        the reason to itself). Runs on the network thread, between retries."""
        try:
            with socket.create_connection((self.host, self.port), timeout=3) as sock:
                if self._tls is not None:
                    self._tls.wrap_socket(sock, server_hostname=self.host).close()
        except ssl.SSLCertVerificationError as exc:
            return f"TLS refused: {exc.verify_message}"
        except ssl.SSLError as exc:
            return f"TLS refused: {exc.reason or exc}"
        except OSError as exc:
            return f"broker unreachable ({exc.strerror or exc})"
        return "connection refused"

    def _on_message(self, client, userdata, message):
        self._store([(message.topic, message.payload, message.retain)], message.qos)

    def _set_status(self, state: str, detail: str = "", failed: bool = False, since: float | None = None) -> None:
        with self._lock:
            if self._stopped:  # a callback already under way when stop() was called
                return
            old = self._status.attempts
            attempts = old + 1 if failed else (0 if state == "live" else old)
            self._status = ConnectionStatus(state, self.url, attempts, detail, since)

    # -- UI thread ------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and keep reconnecting until :meth:`stop`."""
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.options.session_expiry or 0
            self._client.connect_async(self.host, self.port, keepalive=15,
                                       clean_start=self.options.session_expiry is None, properties=props)
        else:
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
        threading.Thread(target=self._finish, name="twinview-mqtt-stop", daemon=True).start()

    def _finish(self) -> None:
        self._client.loop_stop()
        # paho leaves its socket open when it stopped mid-connect, and its wake-up socket
        # pair open until it is garbage collected: close them now.
        self._client._reset_sockets()

    def now(self) -> float:
        """The time of the data now (epoch seconds): the wall clock (a replay has its own)."""
        return time.time()

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        """Publish (e.g. a Sparkplug rebirth request); queued by paho while offline."""
        self._client.publish(topic, payload, qos=qos)

    @property
    def status(self) -> ConnectionStatus:
        """The connection state for display."""
        return self._status


class SourceError(Exception):
    """A live source cannot be set up (e.g. a TLS file that is not a PEM certificate)."""


class CredentialsError(Exception):
    """A password is needed and cannot be found; the message says where to put it."""


def password_for(options: BrokerSpec, ask=None) -> str | None:
    """The password for ``options.username``: from ``options.password_env``, else from
    ``ask()`` (a dialog), else :class:`CredentialsError`. Never stored."""
    if not options.username:
        return None
    if options.password_env and os.environ.get(options.password_env):
        return os.environ[options.password_env]
    if ask is not None:
        return ask()
    where = f"${options.password_env}" if options.password_env else "password_env"
    raise CredentialsError(f"broker user {options.username!r} needs a password: set {where}")
