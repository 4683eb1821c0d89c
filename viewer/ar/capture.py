"""Camera frames on a thread of their own: the newest frame wins, the UI never waits.

A source is a camera device (``0``), a video file, a stream URL (RTSP, HTTP MJPEG: a
phone or an IP camera) or a still photo. Opening and reading can block for seconds (a
stream that stops sending, a camera unplugged): only this thread waits; the UI asks
:meth:`CameraSource.latest` and :attr:`CameraSource.state` and draws what there is.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

#: No new frame for this long (seconds) from a source that was live: it has stalled.
STALL_S = 2.0
STILL_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class CameraSource:
    """Frames from ``where``, read by a daemon thread.

    Parameters
    ----------
    where : int or str
        A device number, a file (video or photo) or a stream URL.
    loop : bool
        Play a video file again from the start when it ends (the demo's).
    process : callable, optional
        Run on each new frame, on this thread (finding markers, undistorting: work the UI
        should not wait for); what it returns comes with the frame from :meth:`latest`.
    """

    def __init__(self, where, loop: bool = False, process=None):
        self.where = int(where) if isinstance(where, str) and where.isdigit() else where
        self.loop = loop
        self.process = process
        self.message = ""  # why it failed or ended
        self.fps: float | None = None
        self._state = "opening"
        self._frame: np.ndarray | None = None
        self._extra = None  # what process() made of the newest frame
        self._index = 0  # frames read so far
        self._at = 0.0  # time.monotonic() of the newest frame
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def label(self) -> str:
        return f"camera {self.where}" if isinstance(self.where, int) else Path(str(self.where)).name

    def start(self) -> CameraSource:
        self._thread = threading.Thread(target=self._run, name=f"camera {self.label}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading; a read blocked in the driver is left to end on its own."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def state(self) -> str:
        """``opening``, ``live``, ``stalled`` (no frame for :data:`STALL_S`), ``ended`` or ``failed``."""
        with self._lock:
            if self._state == "live" and self.fps != 0 and time.monotonic() - self._at > STALL_S:
                return "stalled"
            return self._state

    def latest(self) -> tuple[np.ndarray | None, int]:
        """The newest frame (BGR, not to be changed) and how many frames came so far."""
        with self._lock:
            return self._frame, self._index

    def processed(self):
        """What ``process`` made of the newest frame (None before the first), and its number."""
        with self._lock:
            return self._extra, self._index

    # -- the thread ----------------------------------------------------------------------

    def _publish(self, frame: np.ndarray) -> None:
        extra = None
        if self.process is not None:
            try:
                extra = self.process(frame)
            except Exception as exc:  # one bad frame costs that frame, never the camera
                self.message = f"a frame could not be processed: {exc}"
        with self._lock:
            self._frame, self._extra, self._index = frame, extra, self._index + 1
            self._at, self._state = time.monotonic(), "live"

    def _end(self, state: str, message: str) -> None:
        with self._lock:
            self._state, self.message = state, message

    def _run(self) -> None:
        where = self.where
        if isinstance(where, str) and Path(where).suffix.lower() in STILL_SUFFIXES:
            image = cv2.imread(where)
            if image is None:
                return self._end("failed", f"cannot read the photo {where}")
            self.fps = 0  # a still never stalls
            return self._publish(image)
        capture = cv2.VideoCapture(where)
        try:
            if not capture.isOpened():
                return self._end("failed", f"cannot open {self.label}")
            is_file = isinstance(where, str) and Path(where).is_file()
            fps = capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps if fps and fps < 1000 else None
            period = 1 / self.fps if is_file and self.fps else 0.0  # a file plays at its own pace
            next_at = time.monotonic()
            while not self._stop.is_set():
                ok, frame = capture.read()
                if not ok:
                    if is_file and self.loop and self._index:
                        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    return self._end("ended", f"{self.label} has no more frames")
                self._publish(frame)
                if period:
                    next_at += period
                    self._stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            capture.release()
