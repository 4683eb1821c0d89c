"""Import mesh files in a child process with memory and time limits (GLB files of the
common kind are mapped in this process: see :mod:`meshes.gltf`).

A hostile or broken file must never take the viewer down: a zip bomb, a native crash in
OpenCASCADE or an import that never ends costs only the child (see
:mod:`meshes.import_worker`). The child writes the parts' arrays into the mesh cache
and the parent maps them (no copy, no pickling); a file imported before is read straight
from the cache without starting a child at all.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meshes import cache
from meshes.assembly import Assembly, Part
from meshes.formats import SUPPORTED_SUFFIXES, VERSION, MeshImportError
from meshes.gltf import read_glb

_ARRAYS = ("vertices", "faces", "colors", "locals", "normals")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
_SIGNAL_MEANS = {
    signal.SIGXCPU: "used more CPU time than an import may",
    signal.SIGSEGV: "crashed",
    signal.SIGABRT: "crashed (or needed more memory than an import may use)",
    signal.SIGBUS: "crashed",
    signal.SIGKILL: "was killed",
}


class ImportCancelled(MeshImportError):
    """The user cancelled the import."""


@dataclass(frozen=True)
class ImportLimits:
    """What one import may use.

    Attributes
    ----------
    memory : int
        Address space of the importing process, bytes.
    seconds : float
        Wall-clock time (CPU time is limited to the same).
    """

    memory: int
    seconds: float

    @classmethod
    def from_environment(cls) -> ImportLimits:
        """``$TWINVIEW_IMPORT_MEMORY`` (e.g. ``8G``; default half the machine's memory, at
        least 4 GiB) and ``$TWINVIEW_IMPORT_SECONDS`` (default 600)."""
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = max(physical // 2, 4 << 30)
        seconds = 600.0
        try:
            memory = cache.parse_size(os.environ.get("TWINVIEW_IMPORT_MEMORY") or str(memory))
            seconds = float(os.environ.get("TWINVIEW_IMPORT_SECONDS") or seconds)
        except ValueError:
            pass  # a bad setting keeps the defaults
        return cls(memory, seconds)


def import_assembly(path, name: str | None = None, units: str | None = None, *,
                    progress: Callable[[str], None] | None = None,
                    cancelled: Callable[[], bool] | None = None,
                    limits: ImportLimits | None = None) -> Assembly:
    """Like :func:`meshes.load_assembly`, but in a child process under ``limits``.

    Parameters
    ----------
    path, name, units
        As for :func:`meshes.load_assembly`.
    progress : callable, optional
        Called with a short text for each stage (from this thread).
    cancelled : callable, optional
        Polled about ten times a second; when it returns True the import is stopped.
    limits : ImportLimits, optional
        Defaults to :meth:`ImportLimits.from_environment`.

    Raises
    ------
    MeshImportError
        If the file cannot be read, breaks a limit or crashes the importer.
    ImportCancelled
        If ``cancelled`` said so.
    """
    path = Path(path)
    name = name or path.stem
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise MeshImportError(f"{path.name}: unsupported mesh format {path.suffix!r} "
                              f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if path.suffix.lower() == ".glb" and path.is_file():
        # The common GLB is mapped here in a tenth of a second; its header is checked
        # first, and every array bounded by the file's own size.
        assembly = read_glb(path, name, units)
        if assembly is not None:
            return assembly
    try:
        entry = cache.file_key(path, options=f"import-{VERSION}:{name}:{units}")
    except OSError as exc:
        raise MeshImportError(f"{path}: {'mesh file not found' if isinstance(exc, FileNotFoundError) else exc}") \
            from None
    found = _from_cache(entry)
    if found is not None:
        return found
    folder = cache.new_entry_folder()
    cached = folder is not None
    folder = folder or Path(tempfile.mkdtemp(prefix="twinview-import-"))
    try:
        _run_child(path, name, units, folder, limits or ImportLimits.from_environment(), progress, cancelled)
        assembly = _assembly(_read(folder), json.loads((folder / "meta.json").read_text()))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # Memory maps stay valid when their files move or go.
    if cached:
        cache.commit(folder, entry)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return assembly


def _from_cache(entry: str) -> Assembly | None:
    arrays, meta = cache.load(entry, _ARRAYS), cache.load_meta(entry)
    return None if arrays is None or meta is None else _assembly(arrays, meta)


def _read(folder: Path) -> dict[str, np.ndarray]:
    return {n: np.load(folder / f"{n}.npy", mmap_mode="c", allow_pickle=False) for n in _ARRAYS}


def _assembly(arrays: dict[str, np.ndarray], meta: dict) -> Assembly:
    """Parts whose arrays are views into the child's (memory-mapped) arrays."""
    assembly = Assembly()
    assembly.units = meta["units"]
    v = f = n = 0
    for i, (name, parent, source, nv, nf, has_normals) in enumerate(meta["parts"]):
        assembly.add(Part(name=name, parent=parent, local=np.array(arrays["locals"][i]), source=source,
                          vertices=arrays["vertices"][v:v + nv], faces=arrays["faces"][f:f + nf],
                          colors=arrays["colors"][v:v + nv],
                          normals=arrays["normals"][n:n + nv] if has_normals else None))
        v, f, n = v + nv, f + nf, n + (nv if has_normals else 0)
    return assembly


def _run_child(path: Path, name: str, units: str | None, out: Path, limits: ImportLimits,
               progress, cancelled) -> None:
    # Reports come through a pipe of their own: OpenCASCADE writes to stdout, mid-line too.
    reports, report_fd = os.pipe()
    request = {"path": str(path), "name": name, "units": units, "out": str(out), "parent": os.getpid(),
               "memory": limits.memory, "seconds": limits.seconds, "report_fd": report_fd}
    # -P: the current folder (perhaps a twin folder with a "meshes" folder of its own) must not
    # shadow this package; the package is found where this module was.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryFile() as stderr, open(reports, "rb", buffering=0) as report_pipe:
        try:
            child = subprocess.Popen([sys.executable, "-P", "-m", "meshes.import_worker", json.dumps(request)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
                                     pass_fds=(report_fd,))
        finally:
            os.close(report_fd)  # the child's end: the pipe reads empty once the child has ended
        try:
            result = _follow(report_pipe, path, limits, progress, cancelled)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
        if result.get("done"):
            return
        if "error" in result:
            raise MeshImportError(result["error"])
        stderr.seek(0)
        raise MeshImportError(_crash_message(path, child.returncode, stderr.read().decode(errors="replace")))


def _follow(pipe, path: Path, limits: ImportLimits, progress, cancelled) -> dict:
    """Read the child's reports until it ends; stop it when cancelled or out of time."""
    deadline = time.monotonic() + limits.seconds
    buffer, last = b"", {}
    while True:
        ready, _, _ = select.select([pipe], [], [], 0.1)
        if ready:
            chunk = pipe.read(65536)
            if not chunk:
                return last  # the child ended
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                last = json.loads(line)
                if "stage" in last and progress is not None:
                    progress(last["stage"])
        if cancelled is not None and cancelled():
            raise ImportCancelled(f"{path.name}: import cancelled")
        if time.monotonic() > deadline:
            raise MeshImportError(f"{path.name}: the import took longer than {limits.seconds:g} s and was "
                                  "stopped (set TWINVIEW_IMPORT_SECONDS to allow more)")


def _crash_message(path: Path, returncode: int, stderr: str) -> str:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        what = _SIGNAL_MEANS.get(sig, "stopped")
        return (f"{path.name}: the importer {what} ({sig.name}) reading this file; the file may be damaged "
                "or use something the reader cannot handle. The viewer is unaffected.")
    last_line = stderr.strip().splitlines()[-1:] or ["no message"]
    return f"{path.name}: the importer failed (exit status {returncode}): {last_line[0]}"
