"""Reading recordings back: the messages of an MCAP file, in the order they were written.

The file is read as a stream, record by record, so a recording that never got its
summary (the recorder was killed, the power went) is read up to its last whole chunk,
and a long one never has to fit in memory. Recordings made by other tools replay too:
each channel's topic is taken as the MQTT topic and each message's data as its payload
(JSON or raw), its log time as the time it arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mcap.exceptions import McapError
from mcap.records import Attachment, Channel, DataEnd, Message, Metadata
from mcap.stream_reader import StreamReader


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
    started: str = ""
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    complete: bool = False  # it ended with its summary: nothing was cut off
    problem: str = ""  # why reading stopped early (a recording cut off)


class RecordingReadError(Exception):
    """The file is not a recording that can be read at all."""


def read_recording(path) -> tuple[RecordingInfo, Iterator[RecordedMessage]]:
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

    def messages() -> Iterator[RecordedMessage]:
        try:
            yield from head
            yield from records
        finally:
            stream.close()

    return info, messages()


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
            elif isinstance(record, DataEnd):
                info.complete = True
    except Exception as exc:  # a record cut short fails in the reader's struct, zstd or MCAP checks alike
        if isinstance(exc, McapError) and not channels and not info.metadata:
            raise RecordingReadError(f"{info.path} is not an MCAP recording ({exc})") from None
        info.problem = "the recording is cut off (it was not finished): read up to its last whole chunk"
