"""A supervised background thread: one failing step is counted, never fatal.

The live feed and the simulator each run a loop of small steps. A step that raises is
counted with its reason and the loop goes on; if the thread ends anyway (something
escaped the loop), :attr:`Worker.died` says why, so the window can say so and
restart it instead of showing frozen values as live.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

_log = logging.getLogger(__name__)

MAX_RESTARTS = 3  # a thread that dies more often than this is left dead: something is badly wrong
NOTICE_S = 15.0  # how long a restart stays in the banner


class Worker:
    """Calls ``step`` in a daemon thread until :meth:`stop`.

    Parameters
    ----------
    name : str
        Thread name (shown in messages).
    step : callable
        Does one unit of work; returns the seconds to wait before the next call, or
        None for ``period``.
    period : float
        Default wait between steps, seconds.
    """

    def __init__(self, name: str, step: Callable[[], float | None], period: float):
        self.name, self._step, self.period = name, step, period
        self.failures = 0  # steps that raised
        self.last_failure = ""
        self.died: str | None = None  # why the thread ended on its own, if it did
        self.restarts = 0
        self._notice, self._notice_until = "", 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start (or, after it died, restart) the thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        if self._thread is not None and not self._stop.is_set():  # it died; after stop() it is resumed
            self.restarts += 1
        self.died = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def failed(self) -> bool:
        """True when the thread died and is not restarted any more."""
        return self.died is not None and self.restarts >= MAX_RESTARTS and not self.alive

    def check(self) -> str | None:
        """Restart the thread if it died (at most :data:`MAX_RESTARTS` times).

        Returns what the user must be told, or None: a restart is told for
        :data:`NOTICE_S` seconds, a thread left dead for good.
        """
        if self._thread is not None and not self.alive and not self._stop.is_set():
            died = self.died or "stopped unexpectedly"
            if self.restarts < MAX_RESTARTS:
                self.start()
                self._notice = (f"The {self.name} stopped ({died}) and was restarted "
                                f"({self.restarts} of {MAX_RESTARTS}).")
                self._notice_until = time.monotonic() + NOTICE_S
            else:
                self.died = died
                return f"The {self.name} stopped ({died}) and was not restarted: nothing shown is live."
        return self._notice if time.monotonic() < self._notice_until else None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    wait = self._step()
                except Exception as exc:
                    self.failures += 1
                    reason = f"{type(exc).__name__}: {exc}"
                    if reason != self.last_failure:  # log each new reason once, not at 250 Hz
                        _log.exception("%s: step failed", self.name)
                    self.last_failure = reason
                    wait = None
                self._stop.wait(self.period if wait is None else max(0.0, wait))
        except BaseException as exc:  # what no step may do: recorded for the window, and the thread ends
            self.died = f"{type(exc).__name__}: {exc}"
            _log.error("%s stopped: %s", self.name, self.died)
        finally:
            if not self._stop.is_set() and self.died is None:
                self.died = "stopped unexpectedly"
