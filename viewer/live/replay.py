"""Reading recordings back: the messages of an MCAP file, in the order they were written.

The file is read as a stream, record by record, so a recording that never got its
summary (the recorder was killed, the power went) is read up to its last whole chunk,
and a long one never has to fit in memory. Recordings made by other tools replay too:
each channel's topic is taken as the MQTT topic and each message's data as its payload
(JSON or raw), its log time as the time it arrived.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap.records import Attachment, Channel, DataEnd, Message, Metadata
from mcap.stream_reader import StreamReader

from viewer.live.inbox import Inbox
from viewer.live.recorder import SCENARIO_MEDIA_TYPE
from viewer.live.mqtt import ConnectionStatus
from viewer.live.worker import Worker


class RecordedMessage(NamedTuple):
    """One message as it arrived."""

    topic: str
    payload: bytes
    time: float  # epoch seconds
    retained: bool = False


@dataclass
class RecordingInfo:
    """What a recording says of itself; ``complete`` and ``problem`` are known once read."""

    path: Path
    broker: str = ""
    twin: str = ""  # the twin file's path when it was recorded
    twin_text: bytes | None = None  # the twin file itself, as recorded
    scenario: tuple[str, bytes] | None = None  # (name, text) of a scenario recorded to replay with
    started: str = ""
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    complete: bool = False  # it ended with its summary: nothing was cut off
    problem: str = ""  # why reading stopped early (a recording cut off)


class RecordingReadError(Exception):
    """The file is not a recording that can be read at all."""


def read_recording(path) -> tuple[RecordingInfo, _Messages]:
    """The recording's description and its messages, read as they are iterated.

    The description's metadata and twin are filled from the records before the first
    message (where a recording made here has them); ``complete`` and ``problem`` once
    the messages are exhausted.

    Raises
    ------
    RecordingReadError
        If ``path`` cannot be opened or is not an MCAP file.
    """
    info = RecordingInfo(Path(path))
    try:
        stream = open(path, "rb")
    except OSError as exc:
        raise RecordingReadError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = _records(stream, info)
    head: list[RecordedMessage] = []
    try:
        for message in records:  # up to the first message: the metadata and the twin come before it
            head.append(message)
            break
    except RecordingReadError:
        stream.close()
        raise

    return info, _Messages(head, records, stream)


class _Messages:
    """The messages of a recording as they are read; :meth:`close` closes the file."""

    def __init__(self, head: list[RecordedMessage], records: Iterator[RecordedMessage], stream):
        self._head, self._records, self._stream = head, records, stream

    def __iter__(self):
        return self

    def __next__(self) -> RecordedMessage:
        if self._head:
            return self._head.pop()
        try:
            return next(self._records)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        """Stop reading and close the file."""
        self._records.close()
        self._stream.close()


def _records(stream, info: RecordingInfo) -> Iterator[RecordedMessage]:
    channels: dict[int, tuple[str, bool]] = {}
    reader = StreamReader(stream, record_size_limit=1 << 30)
    try:
        for record in reader.records:
            if isinstance(record, Message):
                topic, retained = channels.get(record.channel_id, (None, False))
                if topic is not None:
                    yield RecordedMessage(topic, record.data, record.log_time / 1e9, retained)
            elif isinstance(record, Channel):
                channels[record.id] = (record.topic, record.metadata.get("retain") == "true")
            elif isinstance(record, Metadata):
                info.metadata[record.name] = dict(record.metadata)
                if record.name == "twinview":
                    info.broker = record.metadata.get("broker", "")
                    info.twin = record.metadata.get("twin", "")
                    info.started = record.metadata.get("started", "")
            elif isinstance(record, Attachment) and record.media_type == "application/yaml" and info.twin_text is None:
                info.twin_text = record.data
            elif isinstance(record, Attachment) and record.media_type == SCENARIO_MEDIA_TYPE:
                info.scenario = (record.name, record.data)
            elif isinstance(record, DataEnd):
                info.complete = True
    except Exception as exc:  # a record cut short fails in the reader's struct, zstd or MCAP checks alike
        if isinstance(exc, McapError) and not channels and not info.metadata:
            raise RecordingReadError(f"{info.path} is not an MCAP recording ({exc})") from None
        info.problem = "the recording is cut off (it was not finished): read up to its last whole chunk"


#: Replay speeds offered (simulated seconds per second); ``inf``: as fast as it can.
SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, float("inf"))
_BATCH = 2000  # messages released at most per step: the feed keeps up, the thread stays responsive


class ReplaySource(Inbox):
    """A recording played back as a source: its messages arrive at their recorded pace
    (times ``speed``) through the very path live data takes, and the session's clock is
    the recording's.

    Parameters
    ----------
    path : str or Path
        The MCAP recording.
    speed : float
        Recorded seconds per second; ``inf`` releases messages as fast as the feed takes them.

    Raises
    ------
    RecordingReadError
        If the file is not a recording.
    """

    def __init__(self, path, speed: float = 1.0):
        super().__init__()
        self.path = Path(path)
        self.info, self._messages = read_recording(path)
        self.url = f"recording {self.path.name}"
        self._next = next(self._messages, None)
        self.start_time = self._next.time if self._next is not None else time.time()  # of the recording
        self.ended = self._next is None
        self.end_time = _end_time(self.path)  # of the last message, when the recording has its summary
        self.released_until = self.start_time - 1e-6  # every message up to this time is in the inbox or applied
        self.paused = False
        self._running = False  # started
        self.speed = speed
        self._position = self.start_time  # recording time at the anchor
        self._anchor = time.monotonic()
        self.worker = Worker("replay", self._step, 0.02)

    # -- the clock ------------------------------------------------------------------

    def now(self) -> float:
        """Where the replay is, in the recording's time (epoch seconds)."""
        if not self._running or self.paused or self.ended or math.isinf(self.speed):
            return self._position
        return self._position + (time.monotonic() - self._anchor) * self.speed

    def _reanchor(self) -> None:
        self._position, self._anchor = self.now(), time.monotonic()

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` recorded seconds per second (``inf``: as fast as it can)."""
        self._reanchor()
        self.speed = speed

    def pause(self) -> None:
        """Stop the clock (and the messages) where they are."""
        self._reanchor()
        self.paused = True

    def play(self) -> None:
        """Go on from where it was paused."""
        self._reanchor()
        self.paused = False

    # -- the source -------------------------------------------------------------------

    def start(self) -> None:
        """Start releasing messages (returns at once)."""
        self._anchor, self._running = time.monotonic(), True
        self.worker.start()

    def stop(self) -> None:
        """Stop releasing messages and close the file."""
        self.worker.stop()
        self._messages.close()

    def _step(self) -> float | None:
        if self.paused or self.ended:
            return None
        fast = math.isinf(self.speed)
        if fast and self.pending() > 100:  # as fast as the feed takes them, not faster
            return 0.005
        now, released = self.now(), 0
        while self._next is not None and (fast or self._next.time <= now) and released < _BATCH:
            message = self._next
            if fast and message.topic in self._latest:  # as fast as the feed takes them: none superseded
                return 0.001
            self._store([(message.topic, message.payload, message.retained)], now=message.time)
            self.released_until = message.time
            if fast:
                self._position = message.time
            released += 1
            self._next = next(self._messages, None)
        if self._next is None:  # the clock stops at the end: values keep the age they had
            self._position = self._position if fast else now
            self.ended = True
            return None
        if fast or released == _BATCH:
            return 0.0
        return min(0.05, (self._next.time - now) / self.speed)

    def rewind(self, after: float) -> None:
        """Read again from the first message later than ``after``: those up to it are
        skipped, not released (a seek restores their effect from a snapshot); a replay
        that had ended is paused there. Call it with the thread stopped."""
        self.paused = self.paused or self.ended
        self._messages.close()
        _, self._messages = read_recording(self.path)
        self._next = next(self._messages, None)
        while self._next is not None and self._next.time <= after:
            self._next = next(self._messages, None)
        with self._lock:
            self._latest.clear()
            self._ordered.clear()
            self._lost = {}
        self._position, self._anchor, self.released_until = after, time.monotonic(), after
        self.ended = self._next is None

    def take_until(self, t: float) -> list[RecordedMessage]:
        """The messages up to ``t``, handed over here instead of released (a seek applies
        them itself, every one); the clock is then at ``t``. Call it with the thread stopped."""
        taken = []
        while self._next is not None and self._next.time <= t:
            taken.append(self._next)
            self._next = next(self._messages, None)
        self._position, self._anchor = t, time.monotonic()
        self.released_until = max(self.released_until, t)
        self.ended = self._next is None
        return taken

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        """Nothing: a replay never publishes (a Sparkplug rebirth request is not sent anywhere)."""

    @property
    def status(self) -> ConnectionStatus:
        """``replay``, in the recording's time (values age by it); the detail says how it plays."""
        detail = "ended" if self.ended else "paused" if self.paused else \
            "as fast as it can" if math.isinf(self.speed) else f"{self.speed:g}x"
        return ConnectionStatus("replay", self.url, detail=detail, since=self.start_time)


def _end_time(path: Path) -> float | None:
    """When the last message of a finished recording arrived (its summary says); None for one cut off."""
    try:
        with open(path, "rb") as stream:
            summary = make_reader(stream).get_summary()
    except Exception:  # cut off, or written without a summary: the replay finds its end as it plays
        return None
    if summary is None or summary.statistics is None or not summary.statistics.message_count:
        return None
    return summary.statistics.message_end_time / 1e9
