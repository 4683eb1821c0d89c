"""What a walkthrough step shows of the machine: the parts that matter, the rest out of the way.

Highlighted parts are outlined (and seen through what covers them, as the selection
is); the other parts fade into the background, strongly when the step isolates parts,
or are hidden; parts a step takes off move out along their offsets. Everything is
undone by :meth:`Spotlight.clear`, back to the view the technician had.
"""

from __future__ import annotations

import numpy as np

from overlays.selection import Selection

#: How far the other parts fade into the background (see ``PartMeshes.set_dim``).
DIM_BESIDE_HIGHLIGHT = 0.55  # the machine still reads around the highlighted parts
DIM_ISOLATED = 0.8  # only the isolated parts count


class Spotlight:
    """A step's view of a :class:`~overlays.parts.PartMeshes`.

    Parameters
    ----------
    parts : PartMeshes
        The machine.
    """

    def __init__(self, parts):
        self.parts = parts
        self._outlines: list[Selection] = []
        self._dimmed = np.zeros(0, dtype=np.int64)
        self._hid = np.zeros(0, dtype=np.int64)
        self.moves: dict[str, np.ndarray] = {}  # where the last full move put parts
        self._moved: set[str] = set()  # every part ever moved: clear() puts them all back

    def show(self, highlight=(), isolate=(), others: str = "dim") -> None:
        """Outline ``highlight``; fade (``others="dim"``) or hide (``"hide"``) every part
        outside ``isolate`` and ``highlight``; with no ``isolate``, fade the rest a little."""
        self._clear_look()
        parts = self.parts
        for name in highlight:
            outline = Selection(parts)
            outline.set_colour(parts.selection.rgb)
            outline.show(name)
            self._outlines.append(outline)
        kept = set(highlight) | set(isolate)
        if not kept:
            return
        keep = np.zeros(len(parts.names), dtype=bool)
        for name in kept:
            keep[parts.subtree(name)] = True
        rest = np.flatnonzero(~keep & np.array([parts.assembly[n].has_geometry for n in parts.names]))
        if isolate and others == "hide":
            self._hid = rest[[parts.is_visible(parts.names[i]) for i in rest]]  # what the user hid stays hidden
            parts.set_hidden(self._hid, True)
        else:
            self._dimmed = rest
            parts.set_dim(rest, DIM_ISOLATED if isolate else DIM_BESIDE_HIGHLIGHT)

    def move(self, moves: dict[str, np.ndarray], share: float = 1.0, start: dict | None = None) -> None:
        """Move each part of ``moves`` (name -> world offset, metres) ``share`` of the way
        (0..1, for an animation) from ``start`` (default: where the last full move put
        the parts); parts not in ``moves`` go back the same share of the way."""
        start = self.moves if start is None else start
        self._moved |= set(moves)
        for name in set(start) | set(moves):
            begin = np.asarray(start.get(name, np.zeros(3)), dtype=float)
            end = np.asarray(moves.get(name, np.zeros(3)), dtype=float)
            self.parts.set_offset(name, begin + (end - begin) * share)
        if share >= 1.0:
            self.moves = {n: np.asarray(v, dtype=float) for n, v in moves.items()}
        self.follow()

    def follow(self) -> None:
        """Keep the outlines on their parts after a move."""
        self.parts.flush()
        for outline in self._outlines:
            outline.follow()

    def clear(self) -> None:
        """Back to the machine as it was before any step: nothing outlined, faded,
        hidden or moved."""
        self._clear_look()
        for name in self._moved:
            self.parts.set_offset(name, None)
        self.moves, self._moved = {}, set()
        self.follow()

    def close(self) -> None:
        """Undo everything (see :meth:`clear`)."""
        self.clear()

    def _clear_look(self) -> None:
        for outline in self._outlines:
            outline.close()
        self._outlines = []
        if len(self._dimmed):
            self.parts.set_dim(self._dimmed, 0.0)
        if len(self._hid):
            self.parts.set_hidden(self._hid, False)
        self._dimmed = self._hid = np.zeros(0, dtype=np.int64)
