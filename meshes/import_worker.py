"""The child side of :mod:`meshes.isolated`: import one file under limits, hand back arrays.

Run as ``python -m meshes.import_worker REQUEST_JSON``. It limits its own memory and CPU
time, follows its parent if the parent dies, imports the file with
:func:`meshes.load_assembly`, writes the parts' arrays into the request's folder and
reports on the pipe the request names, one JSON object per line: ``{"stage": ...}`` as it goes, then
``{"done": true}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import zipfile
from pathlib import Path

#: Formats that are zip archives (3MF): their members are checked before they are inflated.
ZIP_SUFFIXES = (".3mf",)


def main(argv: list[str]) -> int:
    request = json.loads(argv[1])
    with os.fdopen(request["report_fd"], "w") as reports:
        def report(**message) -> None:
            print(json.dumps(message), file=reports, flush=True)

        _follow_parent(request["parent"])
        _limit(request["memory"], request["seconds"])
        path = Path(request["path"])
        try:
            if path.suffix.lower() in ZIP_SUFFIXES:
                _check_archive(path, request["memory"])
            report(stage=f"reading {path.name}")
            from meshes.importer import MeshImportError, load_assembly  # after the limits: trimesh is big

            try:
                assembly = load_assembly(path, name=request["name"], units=request["units"])
            except MeshImportError as exc:
                if not isinstance(exc.__cause__, MemoryError):  # the limit, not the file
                    raise _Refused(str(exc)) from None
                raise MemoryError from exc
            report(stage=f"handing over {len(assembly)} parts")
            _write(assembly, Path(request["out"]))
        except MemoryError:
            report(error=f"{path.name}: needs more memory than the import may use ({request['memory'] / 2**30:.1f} "
                         "GiB; set TWINVIEW_IMPORT_MEMORY to allow more)")
            return 2
        except _Refused as exc:
            report(error=str(exc))
            return 2
        report(done=True)
        return 0


class _Refused(Exception):
    """The file cannot be imported; the message says why."""


def _follow_parent(parent: int) -> None:
    """Get SIGKILL when the parent dies (Linux), so a viewer killed mid-import leaves no
    importer running; exit now if it already died."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        sys.exit(1)


def _limit(memory: int, seconds: float) -> None:
    """Address space and CPU time limits: a bomb hits them and fails, the viewer lives on."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _check_archive(path: Path, memory: int) -> None:
    """Refuse a zip whose members would inflate beyond what the import may use, before
    inflating anything (a 2 MB 3MF can hold 4 GB of zeros)."""
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _Refused(f"{path.name}: not a readable 3MF (zip) archive: {exc}") from None
    allowed = memory // 4  # the parsed mesh takes several times its text
    if inflated > allowed:
        raise _Refused(f"{path.name}: the archive inflates to {inflated / 2**20:,.0f} MiB, more than the "
                       f"{allowed / 2**20:,.0f} MiB an import may unpack (from {path.stat().st_size / 2**20:,.1f} "
                       "MiB on disk); refused")


def _write(assembly, out: Path) -> None:
    """All parts' arrays concatenated (one file per kind), and the tree as JSON."""
    import numpy as np

    from meshes import cache

    parts = list(assembly)
    for p in parts:  # every vertex has a colour: the arrays below must line up
        if len(p.colors) != len(p.vertices):
            p.colors = np.full((len(p.vertices), 3), 178, dtype=np.uint8)
    arrays = {
        "vertices": np.concatenate([p.vertices for p in parts]).astype(np.float32, copy=False),
        "faces": np.concatenate([p.faces for p in parts]).astype(np.int32, copy=False),
        "colors": np.concatenate([p.colors for p in parts]).astype(np.uint8, copy=False),
        "locals": np.array([p.local for p in parts], dtype=np.float64).reshape(-1, 4, 4),
        "normals": np.concatenate([np.zeros((0, 3), np.float32)]
                                  + [p.normals for p in parts if p.normals is not None]).astype(np.float32),
    }
    meta = {"units": assembly.units,
            "parts": [[p.name, p.parent, p.source, len(p.vertices), len(p.faces), p.normals is not None]
                      for p in parts]}
    cache.write(out, arrays, meta)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
