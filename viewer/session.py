"""A live session: the feed fills the state; each UI frame syncs the scene from it."""

from __future__ import annotations

import copy
import getpass
import threading
import time

import pyvista as pv

from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.inbox import ORDERED_PREFIX
from viewer.live.mqtt import ConnectionStatus, MqttSource
from viewer.live.replay import ReplaySource, read_recording
from viewer.alarm_types import AlarmState
from viewer.scene import Scene
from viewer.state import TwinAlarms, TwinForecasts, TwinState
from viewer.twin.loader import Twin

QUALITY_PERIOD_S = 0.25
SNAPSHOT_S = 60.0  # a replay keeps a copy of its state every minute of recorded time, to seek back from
MAX_SNAPSHOTS = 200
FORECASTS_PER_TICK = 1  # fits per frame at most: a twin of many limits spreads them over frames


class Session:
    """Everything a view of one twin needs, stepped by :meth:`tick`, undone by :meth:`close`.

    Parameters
    ----------
    twin : Twin
        The loaded twin.
    plotter : pyvista.Plotter
        Where to draw.
    broker_url : str, optional
        Overrides the twin's broker URL (its other options stay).
    password : str, optional
        For a broker login (see :func:`viewer.live.mqtt.password_for`).
    source : optional
        Where the data comes from instead of the twin's broker: a
        :class:`~viewer.live.replay.ReplaySource`. Its clock is the session's.
    scenario : Scenario, optional
        Virtual faults on what is shown (:mod:`viewer.live.faults`); never published.

    Raises
    ------
    viewer.live.mqtt.SourceError
        If the broker connection cannot be set up (e.g. a TLS file that is not PEM);
        raised before anything is drawn, so a window can keep showing what it had.
    """

    def __init__(self, twin: Twin, plotter: pv.Plotter, broker_url: str | None = None,
                 password: str | None = None, source=None, scenario=None):
        self.twin = twin
        self.ingest = Ingest(twin.signals, scenario)
        url = broker_url or twin.broker_url
        # A bare mesh has no signals: nothing to connect to.
        if source is None and self.ingest.topics:
            source = MqttSource(url, self.ingest.subscriptions, twin.broker, password)
        self.source = source
        #: The time of the data (epoch seconds): the wall clock, or a replay's.
        self.clock = source.now if source is not None else time.time
        self.state = TwinState.for_twin(twin)
        self.feed = LiveFeed(self.source, self.ingest, self.state) if self.source else None
        self.alarms = TwinAlarms(twin.alarms)
        self.alarms_changed: set[str] = set()  # ids whose alarm changed in the last tick
        self.forecasts = TwinForecasts(twin.alarms)
        self.forecasts_changed: set[str] = set()  # signals whose forecast changed in the last tick
        self._alarms_of: dict[str, list[str]] = {}  # part -> ids of the alarms shown on it
        for a in twin.alarms:
            for part in a.parts:
                self._alarms_of.setdefault(part, []).append(a.id)
        self._alarms_owed: set[str] = set()  # changed by an operator since the last tick
        self.scene = Scene(plotter, twin)
        self.scene.forecasts = self.forecasts  # labels say what comes next
        self.scene.clock = self.clock
        if self.ingest.faults is not None:
            self.scene.simulated = self.ingest.faults.acted  # their values are marked
        self.problems: list[str] = []  # what is wrong with the session itself, for a banner
        self._last = time.monotonic()
        self._qualities_at = -1e9
        self._qualities: dict[str, str] = {}
        # what changed while the view showed something else (tick(draw=False)): drawn at the next tick
        self._undrawn_names: set[str] = set()
        self._undrawn_alarms: set[str] = set()
        self._undrawn_qualities = False
        # a replay: copies of the pure parts every SNAPSHOT_S of recorded time, to seek back from
        self._snapshots: list[tuple[float, tuple]] = []
        self._snapshotting = False
        self._closing = threading.Event()
        #: A replay's alarms as they rose: (id, raised at) -> severity (its worst), found for the
        #: whole recording by a quick pass on a thread of its own when it opens.
        self.alarm_marks: dict[tuple[str, float], int] = {}
        self._scanned: dict | None = None  # the pass's marks, taken in by the UI thread
        self._scan = None
        if isinstance(source, ReplaySource):
            self._scan = threading.Thread(target=self._scan_alarms, args=(source.path,), name="replay scan",
                                          daemon=True)
        if isinstance(source, ReplaySource):
            self._snapshots.append((source.released_until, self._pure_copy()))

    def start(self) -> None:
        """Start receiving (returns at once)."""
        if self.feed is not None:
            self.feed.start()
        if self._scan is not None:
            self._scan.start()

    def close(self) -> None:
        """Stop receiving and take the twin out of the plotter."""
        self._closing.set()
        if self._scan is not None and self._scan.is_alive():
            self._scan.join(5)
        if self.feed is not None:
            self.feed.stop()
        self.scene.close()

    def tick(self, draw: bool = True) -> bool:
        """Take what arrived since the last tick into state and scene.

        With ``draw`` False (the view shows something else for a while) state, alarms
        and forecasts go on, and the scene catches up at the next tick that draws.
        Returns True when the view changed and should be rendered.
        """
        now = time.monotonic()
        dt, self._last = now - self._last, now
        notice = self.feed.worker.check() if self.feed else None
        self.problems = [notice] if notice else []
        if self.ingest.faults is not None:
            self.problems.append(f"SIMULATED: scenario {self.ingest.faults.scenario.name!r} changes what is shown "
                                 f"(values marked SIM). The machine is not like this; nothing is published.")
        status = self.status
        link = (status.up, status.since)
        link_changed = link != (self.state.link_up, self.state.link_since)
        self.state.set_link(*link)
        if self._snapshots and not self._snapshotting:
            self._snapshot_if_due()
        dirty = self.feed.take() if self.feed else set()
        if link_changed or now - self._qualities_at >= QUALITY_PERIOD_S:
            # Quality changes with time alone (stale) and with the connection, so all of it
            # is looked at a few times a second and at once when the connection changes;
            # what changed in between is looked at as it arrives.
            self._qualities_at = now
            names = None
        else:
            names = dirty
        changed = set()
        for name, quality in self.state.qualities(self.clock(), names).items():
            if self._qualities.get(name) != quality:
                self._qualities[name] = quality
                changed.add(name)
        dirty |= changed
        qualities = self._qualities if changed else None
        values = self.state.values()
        self.alarms_changed = self.alarms.update(dirty, values, self._qualities, self.clock()) | self._alarms_owed
        if self._scanned is not None:  # a replay's: where its alarms rose, for the timeline
            self.alarm_marks, self._scanned = self._scanned, None
        self._alarms_owed = set()
        self.forecasts_changed = self.forecasts.update(self.state, self._qualities, self.clock(), FORECASTS_PER_TICK)
        dirty |= self.forecasts_changed  # their labels change
        if not draw:
            self._undrawn_names |= dirty
            self._undrawn_alarms |= self.alarms_changed
            self._undrawn_qualities |= qualities is not None
            return False
        dirty |= self._undrawn_names
        looks = self.alarms_changed | self._undrawn_alarms
        if looks:  # the look of the parts they show on, only when they change
            self.scene.set_alarms(self._part_looks(looks))
        qualities = self._qualities if qualities is not None or self._undrawn_qualities else None
        self._undrawn_names, self._undrawn_alarms, self._undrawn_qualities = set(), set(), False
        return self.scene.sync(values, dirty, dt, qualities=qualities) or bool(looks)

    # -- replay: snapshots and seeking ---------------------------------------------------

    def _scan_alarms(self, path) -> None:
        """Every alarm of the recording as it rose: the messages through fresh decoding,
        state and alarms, as fast as they go (the marks on the replay's timeline)."""
        ingest = Ingest(self.twin.signals, self.ingest.faults.scenario if self.ingest.faults else None)
        state, alarms, marks = TwinState.for_twin(self.twin), TwinAlarms(self.twin.alarms), {}
        _, messages = read_recording(path)
        try:
            for changed in play_through(messages, ingest, state, alarms, stop=self._closing):
                for id_ in changed:
                    alarm = alarms.book.get(id_)
                    if alarm.active and alarm.raised_at is not None:
                        marks[(id_, alarm.raised_at)] = int(alarm.severity or 0)
        finally:
            messages.close()
        self._scanned = marks

    def _pure_copy(self, parts: tuple | None = None) -> tuple:
        """Copies of what the data made (``parts``; default: the session's state, decoding
        with its models and faults, alarms and forecasts); the twin's configuration and the
        scenario are shared, not copied."""
        parts = parts or (self.state, self.ingest, self.alarms, self.forecasts)
        shared = {id(s): s for s in self.twin.signals.values()} | {id(self.twin.signals): self.twin.signals}
        if parts[1].faults is not None:
            shared[id(parts[1].faults.scenario)] = parts[1].faults.scenario
        return copy.deepcopy(parts, shared)

    def _snapshot_if_due(self) -> None:
        """Every SNAPSHOT_S of recorded time, with the replay and the feed held for a moment
        so that the copy holds exactly the messages up to a time."""
        source = self.source
        if source.released_until < self._snapshots[-1][0] + SNAPSHOT_S:
            return
        source.worker.stop()
        self.feed.worker.stop()
        self.feed.step()  # what was released, applied
        while source.pending():
            self.feed.step()
        self._snapshotting = True
        try:
            self.tick(draw=False)  # and taken into the alarms and qualities
        finally:
            self._snapshotting = False
        self._snapshots.append((source.released_until, self._pure_copy()))
        if len(self._snapshots) > MAX_SNAPSHOTS:  # a long recording: every other one goes
            self._snapshots = self._snapshots[:1] + self._snapshots[2::2] + self._snapshots[-1:]
        source.worker.start()
        self.feed.worker.start()

    def seek(self, t: float) -> None:
        """Show a replay as it was at ``t`` (the recording's time): from the latest snapshot
        before it, every message after the snapshot up to ``t`` applied in order, then the
        replay goes on from there, paused or playing as it was."""
        source = self.source
        t = max(t, source.start_time) if source.end_time is None else min(max(t, source.start_time), source.end_time)
        source.worker.stop()
        self.feed.worker.stop()
        at, snapshot = max((s for s in self._snapshots if s[0] <= t), key=lambda s: s[0])
        state, ingest, alarms, forecasts = self._pure_copy(snapshot)  # a copy: the snapshot stays for the next seek
        self._snapshots = [s for s in self._snapshots if s[0] <= at]  # those after are made again as it plays
        source.rewind(at)
        for _ in play_through(source.take_until(t), ingest, state, alarms):
            pass  # every message applied, in order
        forecasts.update(state, state.qualities(t), t)
        alarms.book.drain_events()  # the lists are rebuilt from the book, not from its events
        self.state, self.ingest, self.alarms, self.forecasts = state, ingest, alarms, forecasts
        self.feed = LiveFeed(source, ingest, state)
        self.scene.forecasts = forecasts
        self.scene.simulated = ingest.faults.acted if ingest.faults is not None else set()
        self._qualities, self._qualities_at = {}, -1e9  # all looked at again
        self._undrawn_names |= set(self.twin.signals)
        self._alarms_owed |= set(alarms.defs)
        self.feed.start()

    def refresh_alarms(self, ids=None) -> None:
        """Redraw the parts of alarms ``ids`` (default: all) at the next tick: after an
        operator acknowledged or shelved them through :attr:`alarms`."""
        self._alarms_owed |= set(self.alarms.defs if ids is None else ids)

    def _part_looks(self, ids) -> dict[str, tuple | None]:
        """``(severity, acknowledged, active)`` of each part that alarms ``ids`` show on,
        from all the alarms it shows (worst active severity first); None: nothing to show."""
        parts = {part for i in ids if i in self.alarms.defs for part in self.alarms.defs[i].parts}
        looks = {}
        for part in parts:
            shown = [a for a in map(self.alarms.book.get, self._alarms_of[part])
                     if a.state is not AlarmState.NORMAL and not a.shelved]
            active = [a for a in shown if a.active]
            if not shown:
                looks[part] = None
                continue
            unacked = any(a.state in (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED) for a in shown)
            looks[part] = (max(a.severity for a in active or shown), not unacked, bool(active))
        return looks

    def acknowledge(self, ids=None) -> list[str]:
        """Acknowledge the alarms ``ids`` (default: every one listed), as the user logged in."""
        done = self.alarms.book.acknowledge_all(getpass.getuser(), self.clock(), ids)
        self.refresh_alarms(done)
        return done

    @property
    def status(self) -> ConnectionStatus:
        """The broker connection state; ``failed`` when the live feed is dead for good."""
        if self.source is None:
            return ConnectionStatus("no live data", "mesh only")
        if self.feed.worker.failed:
            return ConnectionStatus("failed", self.source.url, detail="live feed stopped")
        return self.source.status

    @property
    def received(self) -> int:
        """Messages received since start."""
        return self.source.received if self.source else 0


def play_through(messages, ingest: Ingest, state: TwinState, alarms: TwinAlarms, stop=None):
    """Apply recorded ``messages`` one by one, in order, each at its own time, to
    ``state`` and ``alarms``; yield the ids of the alarms each one changed. ``stop`` (an
    event) ends it early."""
    for m in messages:
        if stop is not None and stop.is_set():
            return
        latest, ordered = ({}, [(m.topic, m.payload, m.time)]) if m.topic.startswith(ORDERED_PREFIX) else (
            {m.topic: (m.payload, m.time, m.retained)}, ())
        dirty = state.apply_decoded(ingest.decode(latest, ordered, now=m.time))
        yield alarms.update(dirty, state.values(), state.qualities(m.time, dirty), m.time)
