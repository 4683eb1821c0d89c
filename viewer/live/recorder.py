"""Recording: every message a twin subscribes to, as it arrived, into an MCAP file.

MCAP is the open log format robotics and IoT tools read (Foxglove Studio, the ``mcap``
command line). Each MQTT topic is a channel (its retained messages a channel of their
own, marked ``retain: true``); a message keeps its raw payload, and its receive time as
the log time. The twin file travels with the recording (an attachment), and the broker,
the twin's path and the start time are its metadata.

Crash safety: the messages are written in chunks closed every half second and synced
to disk, so a crash, a kill or a power cut loses at most the last second; a file without
its summary (the end a finished recording has) is still read up to its last whole chunk
(:func:`viewer.live.replay.read_recording`). The network thread only appends to a
queue; a thread of its own writes. A write that fails (disk full, a path that went away)
stops the recording with the reason in :attr:`Recorder.error`; the viewer goes on.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from collections import deque
from pathlib import Path

from mcap.writer import CompressionType, Writer

from viewer.live.worker import Worker

FLUSH_S = 0.5  # a chunk is closed and synced to disk at least this often
MAX_QUEUED = 200_000  # messages waiting for the writer; beyond, the newest are counted as lost
PROFILE = "twinview-mqtt"
SCENARIO_MEDIA_TYPE = "application/x-twinview-scenario+yaml"  # a scenario attached to a recording


class RecordingError(Exception):
    """A recording cannot be started (e.g. an unwritable path); the message says why."""


class Recorder:
    """Writes what a source receives into ``path`` until :meth:`stop`.

    Parameters
    ----------
    path : str or Path
        The MCAP file to write (replaced if it exists).
    broker : str
        The broker's URL, kept in the recording's metadata.
    subscriptions : dict of str to int
        Topic filter -> QoS subscribed with, kept in the metadata.
    twin : Path, optional
        The twin file: its text is attached, its path kept in the metadata.
    scenario : Path, optional
        A scenario to replay the recording with: attached (a trainer prepares a session).

    Raises
    ------
    RecordingError
        If the file cannot be created.
    """

    def __init__(self, path, broker: str, subscriptions: dict[str, int], twin: Path | None = None,
                 scenario: Path | None = None):
        self.path = Path(path)
        self.messages = 0  # written
        self.lost = 0  # not written: the queue was full
        self.error: str | None = None  # why the recording stopped on its own
        self.started = time.time()
        self._queue: deque = deque()
        self._channels: dict[tuple[str, bool], int] = {}
        self._flushed = time.monotonic()
        self._sequence = 0
        self._lock = threading.Lock()  # the writer is used by the worker and by stop()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb")
        except OSError as exc:
            raise RecordingError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        try:
            self._begin(broker, subscriptions, twin, scenario)
        except OSError as exc:  # a full disk refuses even the header
            self._fail(str(exc))
            raise RecordingError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.worker = Worker("recorder", self._step, 0.1)

    def _begin(self, broker: str, subscriptions: dict[str, int], twin: Path | None, scenario: Path | None) -> None:
        """The header, the metadata and the attachments, on disk before any message."""
        self._writer = Writer(self._file, compression=CompressionType.ZSTD)
        self._writer.start(profile=PROFILE, library="twinview")
        self._writer.add_metadata("twinview", {
            "broker": broker, "subscriptions": json.dumps(subscriptions),
            "twin": str(twin.resolve()) if twin else "",
            "started": datetime.datetime.fromtimestamp(self.started).astimezone().isoformat(timespec="seconds")})
        if twin is not None:
            self._writer.add_attachment(int(self.started * 1e9), int(self.started * 1e9), twin.name,
                                        "application/yaml", twin.read_bytes())
        if scenario is not None:
            self._writer.add_attachment(int(self.started * 1e9), int(self.started * 1e9), scenario.name,
                                        SCENARIO_MEDIA_TYPE, scenario.read_bytes())
        self._sync()

    def start(self) -> Recorder:
        """Start writing in the background."""
        self.worker.start()
        return self

    def add(self, messages, received: float, qos: int = 0) -> None:
        """Queue ``messages`` (``(topic, payload, retained)``, received at ``received``):
        called on the network thread, so it only appends."""
        if len(self._queue) + len(messages) > MAX_QUEUED:
            self.lost += len(messages)
            return
        self._queue.append((messages, received, qos))

    @property
    def size(self) -> int:
        """Bytes on disk so far."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    @property
    def recording(self) -> bool:
        """True until stopped or failed."""
        return self.error is None and self._writer is not None

    def _step(self) -> None:
        with self._lock:
            if self._writer is None:
                return
            try:
                self._write()
                if time.monotonic() - self._flushed >= FLUSH_S:
                    self._sync()
            except (OSError, ValueError) as exc:  # disk full, the file gone; ValueError: closed
                self._fail(f"recording stopped: {getattr(exc, 'strerror', None) or exc}")

    def _write(self) -> None:
        while self._queue:
            messages, received, qos = self._queue.popleft()
            ns = int(received * 1e9)
            for topic, payload, retained in messages:
                channel = self._channels.get((topic, retained))
                if channel is None:
                    channel = self._channels[(topic, retained)] = self._writer.register_channel(
                        topic, _encoding(payload), 0, {"retain": str(retained).lower(), "qos": str(qos)})
                self._writer.add_message(channel, ns, bytes(payload), ns, self._sequence)
                self._sequence = (self._sequence + 1) & 0xFFFFFFFF
                self.messages += 1

    def _sync(self) -> None:
        self._writer.flush()  # closes the chunk in progress
        os.fsync(self._file.fileno())
        self._flushed = time.monotonic()

    def _fail(self, reason: str) -> None:
        self.error = reason
        self._writer = None
        try:
            self._file.close()
        except OSError:
            pass

    def stop(self) -> None:
        """Write what is queued, end the file with its summary and close it."""
        self.worker.stop()
        with self._lock:
            if self._writer is None:
                return
            try:
                self._write()
                self._writer.finish()
                os.fsync(self._file.fileno())
                self._file.close()
            except (OSError, ValueError) as exc:
                self._fail(f"recording stopped: {getattr(exc, 'strerror', None) or exc}")
            self._writer = None


def _encoding(payload: bytes) -> str:
    """``json`` for a topic whose first payload is JSON (what MCAP tools can show), else ``raw``."""
    try:
        json.loads(payload)
    except ValueError:
        return "raw"
    return "json"
