"""Ingest and latency: the viewer's live path against raw paho, over a real Mosquitto.

Publisher, broker and viewer are separate processes on loopback (the viewer is this
process). Figures:

1. ingest rate: messages/s received by TwinView's path (network thread storing the
   newest payload per topic, a feed thread decoding JSON, binding and updating the
   state, a 30 Hz UI loop) with 1,000 and 10,000 bound topics and a publisher going
   flat out, against a paho client whose callback only counts, in the same run;
2. memory under a flood at least 2x what the path needs, for 30 s: the RSS must stay
   flat but for the signals' histories, which fill up to their bound by design
   (:mod:`viewer.history`; their growth is reported on its own);
3. latency publish -> state applied and publish -> frame rendered (p50/p99) at
   1k, 10k and 30k msg/s and flat out ("max"), the longest loop iteration (a UI stall)
   under each, publish -> received by the network thread (the part spent before the
   viewer's decoding: publisher, broker, socket), and how many payloads were superseded
   (replaced by a newer one of their topic before they were decoded, so never decoded).

Rates and latencies are the medians of 3 runs (single runs vary by 20 % here).

Run: ``.venv/bin/python bench/ingest.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import record  # noqa: E402

from viewer.live.broker import EmbeddedBroker  # noqa: E402
from viewer.live.feed import LiveFeed  # noqa: E402
from viewer.live.ingest import Ingest  # noqa: E402
from viewer.live.mqtt import MqttSource, parse_broker_url  # noqa: E402
from viewer.state import TwinState  # noqa: E402
from viewer.twin.loader import Signal  # noqa: E402
from viewer.twin.schema import SignalSpec  # noqa: E402

UI_FRAME_S = 1 / 30
REPEATS = 3


def publish(url: str, topics: int, rate: float, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "publisher.py"), url, "--topics", str(topics),
         "--rate", str(rate), "--seconds", str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )


def signals(topics: int) -> dict[str, Signal]:
    """Two signals per topic (value and publish time), as a twin would bind them."""
    out = {}
    for i in range(topics):
        for field in ("value", "sent"):
            out[f"{field}{i}"] = Signal(f"{field}{i}", SignalSpec(topic=f"bench/{i}", field=field))
    return out


def raw_rate(url: str, topics: int, seconds: float) -> float:
    """Messages/s a paho client receives when its callback only counts."""
    times = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: times.append(time.perf_counter())
    client.on_connect = lambda c, u, f, rc, p: c.subscribe([(f"bench/{i}", 0) for i in range(topics)])
    host, port = parse_broker_url(url)
    client.connect(host, port)
    client.loop_start()
    time.sleep(0.5)
    publisher = publish(url, topics, 0, seconds)
    publisher.wait()
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    return (len(times) - 1) / (times[-1] - times[0])


class TimedFeed(LiveFeed):
    """TwinView's feed, noting when each publish time reaches the state."""

    def __init__(self, *args):
        super().__init__(*args)
        self.state_lat: list[float] = []
        self.arrival_lat: list[float] = []  # publish -> received by the network thread

    def step(self):
        decoded = super().step()
        now = time.time()
        sent = [u for u in decoded.updates if u.signal.startswith("sent")]
        self.state_lat.extend(now - u.value for u in sent)
        self.arrival_lat.extend(u.received - u.value for u in sent)
        return decoded


class Viewer:
    """TwinView's live path: MqttSource -> feed thread -> TwinState, and a UI loop."""

    def __init__(self, url: str, topics: int, frame=None, timed: bool = True):
        sigs = signals(topics)
        self.state = TwinState(sigs)
        ingest = Ingest(sigs)
        self.source = MqttSource(url, ingest.topics)
        # TimedFeed keeps every latency it sees: not for the memory figure
        self.feed = (TimedFeed if timed else LiveFeed)(self.source, ingest, self.state)
        self.frame = frame  # optional callable run by the UI loop (sync + render)
        self.tick_s: list[float] = []
        self.frame_lat: list[float] = []

    def run(self, seconds: float) -> None:
        """The UI loop: take what changed, draw a frame, at most 30 times a second."""
        values = self.state.values()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            dirty = self.feed.take()
            if self.frame is not None and dirty:
                self.frame(dirty)
                rendered = time.time()
                self.frame_lat.extend(rendered - values[n] for n in dirty if n.startswith("sent"))
            took = time.perf_counter() - t0
            self.tick_s.append(took)
            time.sleep(max(0.0, UI_FRAME_S - took))


def ingest_rate(url: str, topics: int, seconds: float) -> float:
    viewer = Viewer(url, topics)
    viewer.feed.start()
    time.sleep(0.5)
    before = viewer.source.received
    started = time.perf_counter()
    publisher = publish(url, topics, 0, seconds)
    viewer.run(seconds + 0.3)
    publisher.wait()
    rate = (viewer.source.received - before) / (time.perf_counter() - started - 0.3)
    viewer.feed.stop()
    return rate


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def history_mb(state: TwinState) -> float:
    with state.lock:
        return sum(s.past.nbytes for s in state.signals.values()) / 2**20


def overload_memory(url: str, topics: int, seconds: float) -> tuple[float, float, float, float]:
    """Median RSS (MB) over the first and the last third of a flood, and the histories' MB then."""
    viewer = Viewer(url, topics, timed=False)
    viewer.feed.start()
    time.sleep(0.5)
    publishers = [publish(url, topics, 0, seconds) for _ in range(2)]  # two flat-out publishers
    samples = []

    def sample():
        for _ in range(int(seconds)):
            samples.append((rss_mb(), history_mb(viewer.state)))
            time.sleep(1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    viewer.run(seconds)
    for p in publishers:
        p.wait()
    sampler.join()
    viewer.feed.stop()
    third = max(1, len(samples) // 3)
    (start, history_start), (end, history_end) = np.median(samples[:third], axis=0), np.median(samples[-third:], axis=0)
    return float(start), float(end), float(history_start), float(history_end)


def render_frame():
    """A frame function: the pump sample's scene, synced and rendered offscreen."""
    import pyvista as pv

    from viewer.samples import SAMPLES
    from viewer.scene import MULTI_SAMPLES, Scene
    from viewer.twin.loader import load_twin

    plotter = pv.Plotter(off_screen=True, window_size=(1280, 800))
    plotter.ren_win.SetMultiSamples(MULTI_SAMPLES)
    twin = load_twin(SAMPLES["pump"])
    scene = Scene(plotter, twin)
    values = {n: 50.0 for n in twin.signals}
    plotter.ren_win.Render()  # the first frame compiles shaders: not part of the figures

    def frame(dirty):
        scene.sync(values, set(values), dt=UI_FRAME_S)
        plotter.ren_win.Render()
    return frame


def latency(url: str, topics: int, rate: float, seconds: float, frame) -> dict:
    viewer = Viewer(url, topics, frame)
    viewer.feed.start()
    time.sleep(0.5)
    publisher = publish(url, topics, rate, seconds)
    viewer.run(seconds)
    sent = int(publisher.communicate()[0])
    viewer.feed.stop()
    ms = lambda xs, q: 1e3 * float(np.percentile(xs, q))  # noqa: E731
    source = viewer.source
    return {"sent_rate": sent / seconds, "received": source.received, "superseded": source.superseded,
            "arrival_p50": ms(viewer.feed.arrival_lat, 50), "arrival_p99": ms(viewer.feed.arrival_lat, 99),
            "state_p50": ms(viewer.feed.state_lat, 50), "state_p99": ms(viewer.feed.state_lat, 99),
            "frame_p50": ms(viewer.frame_lat, 50), "frame_p99": ms(viewer.frame_lat, 99),
            "stall": 1e3 * max(viewer.tick_s)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test of the bench)")
    args = parser.parse_args()
    seconds, flood = (2.0, 5.0) if args.quick else (5.0, 30.0)
    global REPEATS
    REPEATS = 1 if args.quick else REPEATS
    with EmbeddedBroker(prefer="mosquitto") as broker:
        url = broker.url
        for topics in (1000, 10000):
            # alternate the two, REPEATS times each, and take medians: runs here vary by 20 %
            pairs = [(raw_rate(url, topics, seconds), ingest_rate(url, topics, seconds)) for _ in range(REPEATS)]
            raw, ours = (float(np.median(col)) for col in zip(*pairs))
            print(f"ingest {topics:>6} topics: {ours:>8.0f} msg/s vs raw paho {raw:>8.0f} = {ours / raw:.2f}x")
            record(f"ingest.rate.{topics}_topics", ours, "msg/s", raw, 0.9 * raw if topics == 10000 else None,
                   lower_is_better=False)
        start, end, history_start, history_end = overload_memory(url, 10000, flood)
        history = history_end - history_start
        print(f"memory under flood ({flood:.0f} s, 2 publishers): {start:.0f} MB -> {end:.0f} MB, "
              f"of which the signals' histories {history:.0f} MB")
        record("ingest.overload_rss_growth", end - start - history, "MB", start, 20.0)
        record("ingest.overload_history_growth", history, "MB", 10000 * 29e3 / 2**20, None)
        frame = render_frame()
        for rate in (1000, 10000, 30000, 0):  # 0: as fast as the publisher can
            name = f"{rate}" if rate else "max"
            runs = [latency(url, 10000, rate, seconds, frame) for _ in range(REPEATS)]
            lat = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
            print(f"latency at {name:>5} msg/s (sent {lat['sent_rate']:.0f}/s): "
                  f"state p50 {lat['state_p50']:.1f} p99 {lat['state_p99']:.1f} ms "
                  f"(received p99 {lat['arrival_p99']:.1f}), frame p50 {lat['frame_p50']:.1f} "
                  f"p99 {lat['frame_p99']:.1f} ms, longest tick {lat['stall']:.0f} ms, "
                  f"superseded {lat['superseded']:.0f} of {lat['received']:.0f}")
            fast = rate == 0 or rate >= 30000
            record(f"latency.state_p99.{name}", lat["state_p99"], "ms", None,
                   25.0 if rate == 10000 else 250.0 if fast else None)
            record(f"latency.received_p99.{name}", lat["arrival_p99"], "ms", None, None)
            record(f"latency.frame_p99.{name}", lat["frame_p99"], "ms", None, None)
            record(f"ingest.superseded.{name}", lat["superseded"], "messages", lat["received"], None)
            record(f"ui.longest_tick.{name}", lat["stall"], "ms", None, 100.0 if rate == 30000 else None)


if __name__ == "__main__":
    main()
