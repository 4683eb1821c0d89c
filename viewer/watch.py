"""``twinview watch``: a twin's signals as text, for scripts and SSH sessions."""

from __future__ import annotations

import json
import sys
import time

from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.state import TwinState
from viewer.twin.loader import Twin

STEP_S = 0.05


def watch(twin: Twin, broker_url: str | None = None, as_json: bool = False, seconds: float | None = None,
          out=sys.stdout, password: str | None = None) -> None:
    """Print every signal update, decode error, quality and connection change.

    Parameters
    ----------
    twin : Twin
        What to watch.
    broker_url : str, optional
        Overrides the twin's broker.
    as_json : bool
        One JSON object per line (time, signal, value, unit, quality, error) instead
        of aligned text.
    seconds : float, optional
        Stop after this long (default: until interrupted).
    """
    ingest = Ingest(twin.signals)
    state = TwinState(twin.signals, {n: s.stale_after for n, s in twin.signals.items()})
    source = MqttSource(broker_url or twin.broker_url, ingest.subscriptions, twin.broker, password)
    feed = LiveFeed(source, ingest, state)
    width = max(map(len, twin.signals), default=6)

    def emit(signal: str | None, **fields) -> None:
        now = time.time()
        if as_json:
            print(json.dumps({"time": round(now, 3), "signal": signal, **fields}, ensure_ascii=False), file=out)
        else:
            stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
            text = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("value", "unit"))
            value = f"{fields['value']:.6g} {fields.get('unit', '')}".strip() if "value" in fields else ""
            print(f"{stamp}  {signal or '-':<{width}}  {value:<16} {text}".rstrip(), file=out)
        out.flush()

    qualities: dict[str, str] = {}
    status = None
    source.start()
    end = None if seconds is None else time.monotonic() + seconds
    try:
        while end is None or time.monotonic() < end:
            if str(source.status) != status:
                status = str(source.status)
                emit(None, connection=status)
            decoded = feed.step()  # stepped here, not on the feed's thread: every update is printed
            now = time.time()
            for u in decoded.updates:
                q = state.signals[u.signal].quality(now)
                qualities[u.signal] = q
                emit(u.signal, value=u.value, unit=twin.signals[u.signal].unit, quality=q)
            for e in decoded.errors:
                emit(e.signal, error=e.reason, quality=state.signals[e.signal].quality(now))
            for name, q in state.qualities(now).items():
                if qualities.get(name, "no data") != q:
                    qualities[name] = q
                    emit(name, quality=q)
            time.sleep(STEP_S)
    except KeyboardInterrupt:
        pass
    finally:
        source.stop()
