"""Camera sources on their own thread, and the track that follows the markers."""

import os
import threading
import time

import cv2
import numpy as np
import pytest

from tests.conftest import wait_until
from tests.viewer.ar.synthetic import look_at
from viewer.ar.capture import STALL_S, CameraSource
from viewer.ar.pose import Pose
from viewer.ar.tracking import LOST_AFTER, Tracker


def _video(path, frames=20, fps=20.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for i in range(frames):
        writer.write(np.full((120, 160, 3), (i * 12) % 256, np.uint8))
    writer.release()
    return path


def test_a_video_file_plays_at_its_own_pace_and_ends(tmp_path):
    source = CameraSource(str(_video(tmp_path / "clip.avi"))).start()
    try:
        started = time.monotonic()
        wait_until(lambda: source.state == "ended", timeout=10)
        assert time.monotonic() - started > 0.7  # 20 frames at 20 fps: about a second, not at once
        frame, count = source.latest()
        assert count == 20 and frame.shape == (120, 160, 3) and "no more frames" in source.message
    finally:
        source.stop()


def test_a_looping_video_goes_on_and_a_photo_is_one_frame_that_never_stalls(tmp_path):
    looping = CameraSource(str(_video(tmp_path / "clip.avi", frames=5)), loop=True).start()
    photo_path = tmp_path / "pump.png"
    cv2.imwrite(str(photo_path), np.zeros((48, 64, 3), np.uint8))
    photo = CameraSource(str(photo_path)).start()
    try:
        wait_until(lambda: looping.latest()[1] > 12, timeout=10)
        assert looping.state == "live"
        wait_until(lambda: photo.latest()[1] == 1, timeout=5)
        time.sleep(STALL_S + 0.2)
        assert photo.state == "live"
    finally:
        looping.stop()
        photo.stop()


def test_a_source_that_cannot_open_says_so(tmp_path):
    source = CameraSource(str(tmp_path / "missing.mp4")).start()
    try:
        wait_until(lambda: source.state == "failed", timeout=10)
        assert "cannot open missing.mp4" in source.message
    finally:
        source.stop()


def test_a_stream_that_stops_sending_is_stalled_and_the_caller_is_never_blocked(tmp_path):
    """A camera stream through a pipe whose sender goes quiet: the reading thread waits in
    the driver, the caller's every look at it returns at once."""
    data = _video(tmp_path / "clip.avi", frames=40).read_bytes()
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    resume = threading.Event()

    def sender():
        with open(fifo, "wb") as pipe:
            pipe.write(data[: len(data) // 3])
            pipe.flush()
            resume.wait(20)  # quiet, the pipe open: like a camera that stopped sending

    thread = threading.Thread(target=sender)
    thread.start()
    source = CameraSource(str(fifo)).start()
    try:
        wait_until(lambda: source.latest()[1] > 0, timeout=10)
        wait_until(lambda: source.state == "stalled", timeout=STALL_S + 5)
        looks = []
        for _ in range(50):
            started = time.perf_counter()
            source.latest(), source.state
            looks.append(time.perf_counter() - started)
        assert max(looks) < 0.01  # the UI's look costs nothing while the reader is stuck
    finally:
        resume.set()
        thread.join(10)
        source.stop(10)
    assert source.state in ("ended", "failed", "live")


def _pose(x: float, turn: float = 0.0) -> Pose:
    rvec, tvec = look_at((x, -2.0, 1.0), (x + turn, 0, 0.3))
    return Pose(rvec, tvec, 0.5, 16, (("4X4_50", 0),))


def test_the_track_smooths_jitter_takes_a_jump_at_once_and_is_lost_only_after_a_few_frames():
    tracker = Tracker(smoothing=0.5)
    assert tracker.update(None).state == "searching"
    assert np.allclose(tracker.update(_pose(0.0)).pose.position, (0.0, -2.0, 1.0))
    halfway = tracker.update(_pose(0.02)).pose  # 2 cm of jitter: half of it shown
    assert halfway.position[0] == pytest.approx(0.01, abs=1e-6)
    jumped = tracker.update(_pose(0.5)).pose  # a step to another view: taken at once
    assert jumped.position[0] == pytest.approx(0.5, abs=1e-6)
    for _ in range(LOST_AFTER):
        track = tracker.update(None)
        assert track.state == "holding" and track.shown
    assert tracker.update(None).state == "lost"
    assert tracker.update(_pose(0.3)).state == "tracking"
