"""``twinview record``: a twin's messages into an MCAP file, with no window."""

from __future__ import annotations

import sys
import time

from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.live.recorder import Recorder
from viewer.twin.loader import Twin

STATUS_S = 1.0  # how often the progress line is written


def record(twin: Twin, output, broker_url: str | None = None, duration: float | None = None,
           password: str | None = None, out=sys.stderr, scenario=None) -> int:
    """Record until ``duration`` seconds have passed (None: until interrupted); a
    ``scenario`` (path, checked) is attached, for the replay to apply.

    Returns the exit status: 0, or 1 when the recording stopped on its own (the reason
    is printed).
    """
    url = broker_url or twin.broker_url
    subscriptions = Ingest(twin.signals).subscriptions
    recorder = Recorder(output, url, subscriptions, twin.path, scenario)  # RecordingError: nothing to undo yet
    source = MqttSource(url, subscriptions, twin.broker, password)
    source.tap = recorder.add
    source.start()
    recorder.start()
    start = time.monotonic()
    end = None if duration is None else start + duration
    tty = out.isatty()  # a line rewritten in place; in a log, a line every ten seconds
    logged = start
    try:
        while recorder.recording and (end is None or time.monotonic() < end):
            time.sleep(min(STATUS_S, max(0.0, (end or float("inf")) - time.monotonic())))
            if tty:
                print(f"\r{_progress(recorder, source, time.monotonic() - start)}", end="", file=out, flush=True)
            elif time.monotonic() - logged >= 10 * STATUS_S:
                logged = time.monotonic()
                print(_progress(recorder, source, logged - start), file=out, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        source.stop()
        recorder.stop()
    print(("\r" if tty else "") + _progress(recorder, source, time.monotonic() - start), file=out)
    if recorder.error:
        print(recorder.error, file=out)
        return 1
    if recorder.lost:
        print(f"{recorder.lost} messages lost: the disk could not keep up", file=out)
    return 0


def _progress(recorder: Recorder, source: MqttSource, seconds: float) -> str:
    return (f"recording {recorder.path.name}: {seconds:.0f} s, {recorder.messages:,} messages, "
            f"{recorder.size / 1e6:.1f} MB ({source.status})")
