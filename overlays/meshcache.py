"""A content-addressed cache of processed meshes (merged arrays and normals).

Splitting normals at sharp edges is the slowest step of opening a large model (about
1.4 s for 5 M triangles here). Its result depends only on the merged input arrays, so
it is stored under a hash of exactly those arrays: any change in a file, its units,
its placement or the twin's grouping gives another key, and a stale entry can never
be used. Entries are plain ``.npy`` files in ``$TWINVIEW_CACHE`` (default
``$XDG_CACHE_HOME/twinview/meshes``; ``off`` disables the cache).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

VERSION = b"twinview-mesh-1"  # bump when the processing changes


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is off."""
    setting = os.environ.get("TWINVIEW_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "twinview" / "meshes"


def key(arrays: dict[str, np.ndarray], options: str = "") -> str:
    """Hash of the arrays' names, dtypes, shapes and bytes, and of ``options``."""
    h = hashlib.blake2b(VERSION + options.encode(), digest_size=20)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def load(entry: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``entry``, or None."""
    folder = cache_dir()
    if folder is None or not (folder / entry).is_dir():
        return None
    try:
        # Copy-on-write maps: nothing is read until VTK uploads it, and writes stay private.
        return {f.stem: np.load(f, mmap_mode="c", allow_pickle=False) for f in (folder / entry).glob("*.npy")}
    except (OSError, ValueError):  # a damaged entry is a miss, not an error
        return None


def save(entry: str, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` under ``entry`` (atomically; a failure only costs the cache)."""
    folder = cache_dir()
    if folder is None:
        return
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".new-"))
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        os.replace(tmp, folder / entry)  # fails if another process stored it first: fine
    except OSError:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
