"""A content-addressed cache of mesh arrays: imported files and processed meshes.

Importing a CAD file and splitting normals at sharp edges are the slowest steps of
opening a large model. Both results depend only on their inputs, so they are stored
under a hash of exactly those inputs: any change in a file, its units, its placement
or the twin's grouping gives another key, and a stale entry can never be used.

An entry is a folder of plain ``.npy`` files (plus an optional ``meta.json``) in
``$TWINVIEW_CACHE`` (default ``$XDG_CACHE_HOME/twinview/meshes``; ``off`` disables the
cache). Entries are read as copy-on-write memory maps, so nothing is copied until it is
used. The least recently used entries are removed once the cache holds more than
``$TWINVIEW_CACHE_MAX`` (default 4G).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

VERSION = b"twinview-mesh-1"  # bump when the processing changes
DEFAULT_MAX_BYTES = 4 << 30
_SIZE_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is off."""
    setting = os.environ.get("TWINVIEW_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "twinview" / "meshes"


def parse_size(text: str) -> int:
    """Bytes in a size such as ``4G``, ``500M`` or ``1048576``.

    Raises
    ------
    ValueError
        If ``text`` is not a size.
    """
    text = text.strip().lower().removesuffix("b")
    scale = _SIZE_SUFFIXES.get(text[-1:], 1)
    number = float(text[:-1] if scale != 1 else text)
    if number < 0:
        raise ValueError(f"negative size {text!r}")
    return int(number * scale)


def max_bytes() -> int:
    """The cache's size limit (``$TWINVIEW_CACHE_MAX``; a bad setting means the default)."""
    try:
        return parse_size(os.environ.get("TWINVIEW_CACHE_MAX", ""))
    except ValueError:
        return DEFAULT_MAX_BYTES


def key(arrays: dict[str, np.ndarray], options: str = "") -> str:
    """Hash of the arrays' names, dtypes, shapes and bytes, and of ``options``."""
    h = hashlib.blake2b(VERSION + options.encode(), digest_size=20)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def file_key(path, options: str = "") -> str:
    """Hash of a file's bytes and ``options`` (sha256: the fastest hash here, ~1 GB/s)."""
    h = hashlib.sha256(VERSION + options.encode() + b"\0")
    with open(path, "rb") as f:
        h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()[:40]


def load(entry: str, names) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` stored under ``entry``, or None when any is missing or damaged."""
    folder = cache_dir()
    if folder is None:
        return None
    where = folder / entry
    try:
        # Copy-on-write maps: nothing is read until it is used, and writes stay private.
        arrays = {name: np.load(where / f"{name}.npy", mmap_mode="c", allow_pickle=False) for name in names}
        os.utime(where)  # most recently used: evicted last
    except (OSError, ValueError):  # a missing or damaged entry is a miss, not an error
        return None
    return arrays


def load_meta(entry: str) -> dict | None:
    """The ``meta`` stored with ``entry``, or None."""
    folder = cache_dir()
    try:
        return json.loads((folder / entry / "meta.json").read_text()) if folder else None
    except (OSError, ValueError):
        return None


def new_entry_folder() -> Path | None:
    """An empty folder to write an entry into before :func:`commit` (None: cache off)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=folder, prefix=".new-"))
    except OSError:
        return None


def write(folder: Path, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
    """Write ``arrays`` (and ``meta``) into ``folder`` as an entry's files."""
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta))


def commit(folder: Path, entry: str) -> None:
    """Make a folder from :func:`new_entry_folder` the entry ``entry`` (atomically), then
    keep the cache within its size limit."""
    try:
        os.replace(folder, folder.parent / entry)
    except OSError:  # another process stored it first: fine
        shutil.rmtree(folder, ignore_errors=True)
    evict(max_bytes())


def save(entry: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
    """Store ``arrays`` under ``entry`` (atomically; a failure only costs the cache)."""
    folder = new_entry_folder()
    if folder is None:
        return
    try:
        write(folder, arrays, meta)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    commit(folder, entry)


def evict(limit: int) -> None:
    """Remove the least recently used entries until the cache holds at most ``limit`` bytes."""
    folder = cache_dir()
    if folder is None or not folder.is_dir():
        return
    entries, now = [], time.time()
    for entry in os.scandir(folder):
        if entry.name.startswith(".new-") and now - entry.stat().st_mtime > 3600:
            shutil.rmtree(entry.path, ignore_errors=True)  # left by a process that died writing it
        elif entry.is_dir() and not entry.name.startswith("."):
            size = sum(f.stat().st_size for f in os.scandir(entry.path) if f.is_file())
            entries.append((entry.stat().st_mtime, size, entry.path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):  # oldest use first
        if total <= limit:
            break
        shutil.rmtree(path, ignore_errors=True)
        total -= size
