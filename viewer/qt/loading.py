"""Open twin and mesh files off the UI thread, with a progress dialog that can cancel.

Meshes are imported in a child process (:mod:`meshes.isolated`) and their parts merged
and given normals on this thread, so the window keeps drawing the twin it shows until the
new one is ready, and a crash or a bomb in the file costs the child, never the window.
A large model sends a coarse preview first (:mod:`overlays.preview`), to show while its
full detail is prepared.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from meshes import SUPPORTED_SUFFIXES, MeshImportError
from meshes.isolated import ImportCancelled
from overlays.preview import PREVIEW_ABOVE, coarse
from viewer.scene import prepare_geometry
from viewer.twin.loader import TwinError, load_twin, twin_from_mesh

SHOW_AFTER_MS = 400  # a quick open shows no dialog at all


class TwinLoader(QtCore.QObject):
    """Loads one file at a time in a thread and reports on the UI thread.

    Signals
    -------
    preview(object)
        A :class:`~overlays.preview.Coarse` model to show meanwhile, for a large model
        only; ``finished`` follows, ``loaded`` if the load succeeds.
    loaded(object)
        The :class:`~viewer.twin.loader.Twin`, on success.
    failed(str, str)
        A title and a message for the user (not emitted when the user cancelled).
    finished()
        After either, or after a cancel.
    """

    preview = QtCore.Signal(object)
    loaded = QtCore.Signal(object)
    failed = QtCore.Signal(str, str)
    finished = QtCore.Signal()
    _stage = QtCore.Signal(str)
    _done = QtCore.Signal(object, object, object)  # run, then (twin, None) or (None, (title, message))
    _coarse = QtCore.Signal(object, object)  # run, Coarse

    def __init__(self, parent: QtWidgets.QWidget, allow_outside: bool = False):
        super().__init__(parent)
        self.allow_outside = allow_outside
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._started = 0.0
        self._path: Path | None = None
        self._stage_text = ""
        self.dialog = QtWidgets.QProgressDialog(parent)
        self.dialog.setWindowTitle("Opening")
        self.dialog.setRange(0, 0)  # busy: an importer cannot say how far it is
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.reset()  # stops the timer Qt starts with the dialog: it would show itself, with no load
        self.dialog.hide()
        self._show_timer = QtCore.QTimer(self, singleShot=True, interval=SHOW_AFTER_MS)
        self._show_timer.timeout.connect(self.dialog.show)
        self._clock = QtCore.QTimer(self, interval=500)  # the elapsed time moves while a stage lasts
        self._clock.timeout.connect(lambda: self._on_stage(self._stage_text))
        self._stage.connect(self._on_stage)
        self._done.connect(self._on_done)
        self._coarse.connect(lambda run, model: run is self._cancel and not run.is_set() and self.preview.emit(model))

    @property
    def busy(self) -> bool:
        """True while a file is being loaded."""
        return self._thread is not None

    def start(self, path: Path) -> None:
        """Load ``path`` (a twin file or a mesh); a load in progress is cancelled first."""
        self.close()
        self._path, self._started = Path(path), time.monotonic()
        self._cancel = threading.Event()
        self._on_stage("reading the twin file" if self._path.suffix.lower() not in SUPPORTED_SUFFIXES else "")
        self._thread = threading.Thread(target=self._run, args=(self._path, self._cancel), daemon=True,
                                        name=f"open {self._path.name}")
        self._thread.start()
        self._show_timer.start()
        self._clock.start()

    def cancel(self) -> None:
        """Stop the load in progress: its importer is killed, the window keeps what it shows."""
        self._cancel.set()

    def close(self) -> None:
        """Cancel a load in progress and wait for its thread (the importer dies at once)."""
        if self._thread is not None:
            self._cancel.set()
            self._ended()

    def _ended(self) -> None:
        """Join the load's thread (ending or ended) and put the dialog away."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._show_timer.stop()
        self._clock.stop()
        self.dialog.hide()

    def _run(self, path: Path, cancel: threading.Event) -> None:
        progress, cancelled = self._stage.emit, cancel.is_set
        try:
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                twin = twin_from_mesh(path, progress=progress, cancelled=cancelled)
            else:
                twin = load_twin(path, allow_outside=self.allow_outside, progress=progress, cancelled=cancelled)
            if cancelled():
                raise ImportCancelled(path.name)
            if twin.assembly.n_triangles > PREVIEW_ABOVE:
                self._send_preview(twin, cancel)
            progress(f"preparing {twin.assembly.n_triangles:,} triangles")
            prepare_geometry(twin)  # here, not on the UI thread: showing it then costs little
            self._done.emit(cancel, twin, None)
        except ImportCancelled:
            self._done.emit(cancel, None, None)
        except TwinError as exc:
            self._done.emit(cancel, None, ("Cannot open twin", str(exc)))
        except MeshImportError as exc:
            self._done.emit(cancel, None, ("Cannot open mesh", str(exc)))
        except Exception as exc:  # never a traceback in a thread nobody sees
            self._done.emit(cancel, None, ("Cannot open", f"{path.name}: {type(exc).__name__}: {exc}"))

    def _send_preview(self, twin, run: threading.Event) -> None:
        """A coarse model to show meanwhile; a preview that fails is only a preview less."""
        try:
            model = coarse(twin.assembly)
        except Exception:  # noqa: BLE001 - the full model's own checks say what is wrong with it
            return
        if model is not None:
            self._coarse.emit(run, model)

    def _on_stage(self, stage: str) -> None:
        self._stage_text = stage
        elapsed = time.monotonic() - self._started
        text = f"Opening {self._path.name}" + (f": {stage}" if stage else "")
        self.dialog.setLabelText(text + (f" ({elapsed:.0f} s)" if elapsed >= 1 else ""))

    def _on_done(self, run: threading.Event, twin, problem) -> None:
        if run is not self._cancel:
            return  # from a load that was replaced by another
        self._ended()
        if run.is_set():
            pass  # cancelled, perhaps after it finished: the window keeps what it shows
        elif twin is not None:
            self.loaded.emit(twin)
        elif problem is not None:
            self.failed.emit(*problem)
        self.finished.emit()
