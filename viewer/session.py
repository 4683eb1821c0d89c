"""A live session: the feed fills the state; each UI frame syncs the scene from it."""

from __future__ import annotations

import time

import pyvista as pv

from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import ConnectionStatus, MqttSource
from viewer.scene import Scene
from viewer.state import TwinState
from viewer.twin.loader import Twin

QUALITY_PERIOD_S = 0.25


class Session:
    """Everything a view of one twin needs, stepped by :meth:`tick`.

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
    """

    def __init__(self, twin: Twin, plotter: pv.Plotter, broker_url: str | None = None,
                 password: str | None = None):
        self.twin = twin
        self.state = TwinState(twin.signals, {n: s.stale_after for n, s in twin.signals.items()})
        self.ingest = Ingest(twin.signals)
        self.scene = Scene(plotter, twin)
        # A bare mesh has no signals: nothing to connect to.
        url = broker_url or twin.broker_url
        self.source = (MqttSource(url, self.ingest.subscriptions, twin.broker, password)
                       if self.ingest.topics else None)
        self.feed = LiveFeed(self.source, self.ingest, self.state) if self.source else None
        self._last = time.monotonic()
        self._qualities_at = -1e9
        self._qualities: dict[str, str] = {}

    def start(self) -> None:
        """Start receiving (returns at once)."""
        if self.feed is not None:
            self.feed.start()

    def stop(self) -> None:
        """Stop receiving."""
        if self.feed is not None:
            self.feed.stop()

    def tick(self) -> bool:
        """Take what arrived since the last tick into state and scene.

        Returns True when the view changed and should be rendered.
        """
        now = time.monotonic()
        dt, self._last = now - self._last, now
        dirty = self.feed.take() if self.feed else set()
        wall = time.time()
        if now - self._qualities_at >= QUALITY_PERIOD_S:
            # Quality changes with time alone (stale), so all of it is looked at a few
            # times a second; what changed in between is looked at as it arrives.
            self._qualities_at = now
            names = self.state.signals
        else:
            names = dirty
        changed = set()
        for name in names:
            quality = self.state.signals[name].quality(wall)
            if self._qualities.get(name) != quality:
                self._qualities[name] = quality
                changed.add(name)
        dirty |= changed
        qualities = self._qualities if changed else None
        return self.scene.sync(self.state.values(), dirty, dt, qualities=qualities)

    @property
    def status(self) -> ConnectionStatus:
        """The broker connection state."""
        return self.source.status if self.source else ConnectionStatus("no live data", "mesh only")

    @property
    def received(self) -> int:
        """Messages received since start."""
        return self.source.received if self.source else 0
