"""The Qt binding itself: PySide6 6.12.0 dropped a reference to None on every
processEvents() call, and the window (and pytest-qt's waits) crashed once None ran out."""

import sys

from PySide6 import QtWidgets


def test_processing_events_keeps_nones_references(qapp):
    before = sys.getrefcount(None)
    for _ in range(1000):
        QtWidgets.QApplication.processEvents()
    assert sys.getrefcount(None) - before > -100  # other code may hold or drop a few
