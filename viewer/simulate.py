"""``twinview simulate``: any twin's ``simulate`` section, published to a broker."""

from __future__ import annotations

import sys
import time

from viewer.live.broker import EmbeddedBroker
from viewer.live.faults import SourceFaults
from viewer.live.simulator import Simulator
from viewer.twin.loader import Twin


def simulate(twin: Twin, broker_url: str | None = None, speed: float = 1.0, seconds: float | None = None,
             out=sys.stderr, scenario=None) -> int:
    """Publish ``twin``'s simulated sensors until ``seconds`` have passed (None: until
    interrupted), to ``broker_url`` or, without one, to a private broker started here:
    never to the twin's own broker unless it is named.

    A ``scenario`` is applied to what is published (see
    :class:`~viewer.live.faults.SourceFaults`): every viewer of that broker sees it.

    Returns the exit status: 0, or 1 when the twin simulates nothing or the scenario
    cannot be applied at the source.
    """
    if not twin.spec.simulate:
        print(f"error: {twin.path} has no simulate section: nothing to publish", file=out)
        return 1
    try:
        faults = SourceFaults(scenario, twin.signals) if scenario is not None else None
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 1
    server = EmbeddedBroker().start() if broker_url is None else None
    url = broker_url or server.url
    simulator = Simulator(url, twin.spec.simulate, speed=speed, faults=faults).start()
    applied = f", SIMULATED faults: scenario {scenario.name!r}" if scenario is not None else ""
    print(f"simulating {twin.name} on {url} at {speed:g}x{applied} (Ctrl+C stops it)\n"
          f"  watch it:  twinview open {twin.path} --broker {url}", file=out, flush=True)
    try:
        end = None if seconds is None else time.monotonic() + seconds
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        if server is not None:
            server.stop()
    return 0
