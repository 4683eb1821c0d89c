"""Background threads: a failing step is counted; a dead thread is said, restarted, or the
session marked failed; never frozen values shown as live."""

import pyvista as pv
import pytest

from tests.conftest import wait_until
from viewer.live import worker as worker_module
from viewer.live.simulator import Simulator
from viewer.live.worker import MAX_RESTARTS
from viewer.session import Session
from viewer.twin.loader import load_twin
from viewer.twin.schema import SimulatedTopic


class Escape(BaseException):
    """Something no step may raise (what killed the thread before: it escaped every handler)."""


@pytest.fixture
def session(rig_twin, mosquitto):
    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    s = Session(load_twin(rig_twin), plotter, mosquitto)
    s.start()
    wait_until(lambda: s.status.state == "live")
    yield s
    s.close()
    plotter.close()


def _kill_feed(session, monkeypatch):
    """Make the feed's next decode raise past its handlers, as a decoder bug once did."""
    decode = session.ingest.decode

    def dies(*args, **kwargs):
        monkeypatch.setattr(session.ingest, "decode", decode)
        raise Escape("decoder bug")

    monkeypatch.setattr(session.ingest, "decode", dies)
    wait_until(lambda: not session.feed.worker.alive)


def test_a_dead_feed_thread_is_said_and_restarted_and_values_flow_again(session, publisher, monkeypatch):
    _kill_feed(session, monkeypatch)
    assert session.feed.worker.died == "Escape: decoder bug"
    session.tick()
    assert session.feed.worker.alive
    assert session.problems == [f"The live feed stopped (Escape: decoder bug) and was restarted (1 of {MAX_RESTARTS})."]
    publisher.send("rig/bearing", {"temperature": 77})
    wait_until(lambda: session.state.values()["temp"] == 77.0)


def test_a_feed_that_keeps_dying_marks_the_session_failed_and_nothing_live(session, publisher, monkeypatch):
    publisher.send("rig/bearing", {"temperature": 60})
    wait_until(lambda: session.state.values()["temp"] == 60.0)
    for _ in range(MAX_RESTARTS + 1):
        _kill_feed(session, monkeypatch)
        session.tick()
    assert session.status.state == "failed"
    assert "not restarted" in session.problems[0]
    session.tick()
    assert session.scene.qualities["temp"] == "stale"  # drawn untrusted, not live


def test_a_step_that_raises_is_counted_and_the_loop_goes_on():
    calls = []

    def step():
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("once")

    w = worker_module.Worker("test worker", step, 0.001)
    w.start()
    try:
        wait_until(lambda: len(calls) >= 5)
        assert w.alive and w.failures == 1 and w.last_failure == "ValueError: once"
    finally:
        w.stop()
    assert not w.alive and w.check() is None  # stopped on purpose: nothing to tell


def test_the_simulator_survives_a_topic_whose_payload_cannot_be_built(mosquitto, publisher):
    # "a.b" cannot go under "a", which is already a number: that topic is skipped, the others go on.
    topics = [SimulatedTopic(topic="sim/bad", fields={"a": "1", "a.b": "2"}, period=0.05),
              SimulatedTopic(topic="sim/good", value="t", period=0.05)]
    seen = []
    publisher.client.on_message = lambda c, u, m: seen.append(m.topic)
    publisher.client.subscribe("sim/#")
    sim = Simulator(mosquitto, topics).start()
    try:
        wait_until(lambda: seen.count("sim/good") >= 5)
        assert "sim/bad" not in seen and sim.worker.alive
    finally:
        sim.stop()
