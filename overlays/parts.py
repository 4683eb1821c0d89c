"""Draw an assembly with few actors and recolour, move and hide parts in place.

Parts that never move share one merged mesh; every part that moves (and the
parts that ride on it) forms a rigid group with one merged mesh and one actor whose
user matrix follows the joint. Colours live in one uint8 RGBA point array per
group, rewritten in place: a part's drawn colour is its data colour if it has one,
else its file colour or, in the condition view, a neutral grey of the file colour's
lightness; an alarm tint is mixed over either. New data colours rewrite only the
points of data-coloured parts, and only the colour array is uploaded again. A hidden
part's points are collapsed onto one of its own points (zero-area triangles draw
nothing and cannot be picked), so nothing is rebuilt after start-up. (VTK's polydata
mapper ignores hidden-cell ghost flags.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv
from overlays import vtk_classes as vtk

from meshes import Assembly
from overlays import palette
from overlays.geometry import Geometry, group_roots, polydata, prepare
from overlays.selection import Selection



#: What dimmed parts fade into: the scene's dark background, so they recede.
DIM_RGB = (40, 47, 62)
DIM_RGBA = np.array([*DIM_RGB, 255], dtype=np.float32)


@dataclass
class _Group:
    root: str | None  # the moving part this group rides on; None = static
    mesh: pv.PolyData
    actor: vtk.vtkActor
    point_part: np.ndarray  # part index per point
    cell_part: np.ndarray  # part index per cell
    base_rgb: np.ndarray  # colours from the file
    parts: frozenset  # part indices present in this group
    look: np.ndarray | None = None  # RGBA without data: file colours, or neutral greys
    rest_points: np.ndarray | None = None  # point coordinates with every part shown, once one is hidden
    rgba: np.ndarray | None = None  # the drawn colours: a view of the mesh's VTK array
    colours_dirty: bool = False  # data colours changed: the points of data-coloured parts are redrawn
    look_dirty: bool = True  # anything else that colours changed: every point is redrawn
    coloured: np.ndarray | slice | None = None  # the points of data-coloured parts (set with the look)
    coloured_part: np.ndarray | None = None  # their parts
    points_dirty: bool = False


class PartMeshes:
    """The VTK view of an assembly.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Where the actors go (an offscreen plotter or a Qt interactor).
    assembly : Assembly
        The machine.
    moving : iterable of str
        Parts that will get joint motions; each starts a rigid group.
    prepared : Geometry, optional
        What :func:`prepare` made of the same assembly and ``moving`` (on another
        thread, so that building here costs little).
    """

    def __init__(self, plotter: pv.Plotter, assembly: Assembly, moving=(), prepared: Geometry | None = None):
        self.plotter = plotter
        self.assembly = assembly
        self.names = list(assembly.parts)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.moving = [name for name in self.names if name in set(moving)]
        self.joints: dict[str, np.ndarray] = {}
        self._worlds: dict[str, np.ndarray] | None = None
        self._joints_dirty = True
        n = len(self.names)
        # RGBA, as drawn (alpha always 255): whole rows are copied into the mesh
        self._override = np.full((n, 4), 255, dtype=np.uint8)
        self._has_override = np.zeros(n, dtype=bool)
        self._hidden = np.zeros(n, dtype=bool)
        self._neutral = np.zeros(n, dtype=bool)  # drawn grey (condition view) unless data colours it
        self.neutral_range = palette.NEUTRAL_RANGES[0]
        self._tint = np.full((n, 4), 255, dtype=np.float32)
        self._tint_weight = np.zeros(n, dtype=np.float32)  # 0: no tint
        self._dim = np.zeros(n, dtype=np.float32)  # 0..1 of the way into DIM_RGB: out of the way
        self._offsets: dict[str, np.ndarray] = {}  # part -> world translation (a walkthrough's exploded view)
        self._point_colours: dict[str, tuple] = {}  # part -> (group, its points, their RGBA): fields
        self._subtree = self._subtrees()
        self._root_of = group_roots(assembly, self.moving)
        prepared = prepare(assembly, self.moving) if prepared is None else prepared
        self._local_bounds = prepared.corners
        self.groups = [self._build_group(root, arrays) for root, arrays in prepared.groups.items()]
        self._group_of_actor = {id(g.actor): g for g in self.groups}
        self._group_of_part = np.full(n, -1)
        for g, group in enumerate(self.groups):
            self._group_of_part[list(group.parts)] = g
        self._picker = vtk.vtkCellPicker()
        self._picker.SetTolerance(0.002)
        self.selection = Selection(self)
        self.flush()

    # -- building -----------------------------------------------------------------

    def _subtrees(self) -> dict[str, np.ndarray]:
        members: dict[str, list[int]] = {name: [] for name in self.names}
        for name in self.names:
            for owner in [name, *self.assembly.ancestors(name)]:
                members[owner].append(self.index[name])
        return {name: np.array(idx, dtype=np.int64) for name, idx in members.items()}

    def group_root(self, name: str) -> str | None:
        """The moving part that ``name`` rides on (itself if it moves), or None."""
        return self._root_of[name]

    def _build_group(self, root: str | None, arrays: dict[str, np.ndarray]) -> _Group:
        indices = np.flatnonzero(np.bincount(arrays["cell_part"])).tolist()  # O(n): no sort of 5M cells
        mesh = polydata(arrays["points"], arrays["faces"])
        mesh.point_data["Normals"] = arrays["normals"]
        mesh.point_data.active_normals_name = "Normals"
        mesh.point_data["rgba"] = _rgba(arrays["rgb"])  # as drawn: RGB is converted on every upload
        mesh.cell_data["part"] = arrays["cell_part"]
        actor = self.plotter.add_mesh(mesh, scalars="rgba", rgba=True, smooth_shading=True,
                                      specular=0.25, specular_power=20, show_scalar_bar=False,
                                      reset_camera=False, render=False)  # a 5M-triangle frame costs a second
        return _Group(root, mesh, actor, arrays["point_part"], arrays["cell_part"], arrays["rgb"],
                      frozenset(indices), _rgba(arrays["rgb"]), rgba=np.asarray(mesh.point_data["rgba"]))

    # -- updates --------------------------------------------------------------------

    def own_geometry(self, name: str) -> np.ndarray:
        """Indices of the parts that stand for ``name`` when it is coloured or outlined:
        the part itself when it has geometry, else every part under it (a group)."""
        i = self.index[name]
        return np.array([i]) if self.assembly[name].has_geometry else self._subtree[name]

    def set_colour(self, name: str, rgb) -> None:
        """Colour ``name`` (a group: every part under it); ``None`` restores the file colours."""
        idx = self.own_geometry(name)
        if rgb is None:
            self._has_override[idx] = False
            self._mark(idx, "look_dirty")
        else:
            self.set_colours(idx, np.broadcast_to(np.asarray(rgb, np.uint8), (len(idx), 3)))

    def set_colours(self, idx: np.ndarray, rgb: np.ndarray) -> None:
        """Colour many parts at once: part indices ``idx`` (see ``index``), ``rgb`` n x 3."""
        self._override[idx, :3] = rgb
        if not self._has_override[idx].all():  # parts newly data-coloured
            self._has_override[idx] = True
            self._mark(idx, "look_dirty")
        self._mark(idx, "colours_dirty")

    def surface_points(self, name: str) -> np.ndarray:
        """Where the mesh points of what stands for ``name`` (see :meth:`own_geometry`) are
        in ``name``'s own frame, in the order :meth:`set_point_colours` takes colours."""
        group, points = self._points_of(name)
        rest = self.assembly.world_transforms()
        to_own = np.linalg.inv(rest[name]) @ (rest[group.root] if group.root else np.eye(4))
        xyz = np.asarray(group.rest_points if group.rest_points is not None else group.mesh.points)[points]
        return xyz @ to_own[:3, :3].T + to_own[:3, 3]

    def _points_of(self, name: str) -> tuple[_Group, np.ndarray | slice]:
        parts = self.own_geometry(name)
        group = self.groups[self._group_of_part[parts[0]]]  # a part's points all ride in one group
        points = np.flatnonzero(np.isin(group.point_part, parts))
        if len(points) and points[-1] - points[0] == len(points) - 1:  # one run (a part's own): copied, not gathered
            return group, slice(int(points[0]), int(points[-1]) + 1)
        return group, points

    def set_point_colours(self, name: str, rgb: np.ndarray | None) -> None:
        """Colour each point of ``name`` (``rgb``: n x 3 uint8, in the order of
        :meth:`surface_points`): a field over its surface; ``None`` ends it."""
        idx = self.own_geometry(name)
        if rgb is None:
            self._point_colours.pop(name, None)
            self.set_colour(name, None)
            return
        if name not in self._point_colours:
            group, points = self._points_of(name)
            self._point_colours[name] = (group, points, np.full((len(rgb), 4), 255, np.uint8))
        self._point_colours[name][2][:, :3] = rgb
        if not self._has_override[idx].all():
            self._has_override[idx] = True  # data-coloured: never tinted or greyed
            self._mark(idx, "look_dirty")
        self._mark(idx, "colours_dirty")

    def colour_of(self, name: str) -> np.ndarray | None:
        """Current override colour of a part, or None when it shows its file colour."""
        i = self.index[name]
        return self._override[i, :3].copy() if self._has_override[i] else None

    def set_neutral(self, mask, grey_range: tuple[int, int] | None = None) -> None:
        """Draw the parts in ``mask`` (bool per part, see ``index``) neutral: greys of their
        file colours' lightness, from ``grey_range`` (darkest, lightest; default: the
        current :attr:`neutral_range`). A data colour still wins over it."""
        mask = np.asarray(mask, dtype=bool)
        if grey_range is not None and tuple(grey_range) != tuple(self.neutral_range):
            self.neutral_range = tuple(grey_range)
            self._neutral[:] = ~mask  # every group's look is recomputed below
        changed = np.flatnonzero(mask != self._neutral)
        self._neutral[:] = mask
        for g in np.unique(self._group_of_part[changed]):
            if g >= 0:
                group = self.groups[g]
                neutral = mask[group.point_part]
                group.look = _rgba(np.where(neutral[:, None], palette.neutral(group.base_rgb, *self.neutral_range),
                                            group.base_rgb) if neutral.any() else group.base_rgb)
                group.look_dirty = True

    def is_neutral(self, name: str) -> bool:
        """True if the part is drawn neutral when no data colours it."""
        return bool(self._neutral[self.index[name]])

    def set_tints(self, idx: np.ndarray, rgb, weight) -> None:
        """Mix ``rgb`` (n x 3, or one colour) over parts ``idx`` by ``weight`` (0..1, one or
        n; 0 removes the tint): how a part in alarm shows its severity."""
        idx = np.asarray(idx, dtype=np.int64)
        self._tint[idx, :3] = rgb
        self._tint_weight[idx] = weight
        self._mark(idx, "look_dirty")

    def set_dim(self, idx: np.ndarray, weight: float) -> None:
        """Fade parts ``idx`` ``weight`` (0..1; 0 restores them) of the way into
        :data:`DIM_RGB`, data colours too: the rest of the machine, while a walkthrough
        step shows the parts that matter."""
        idx = np.asarray(idx, dtype=np.int64)
        self._dim[idx] = weight
        self._mark(idx, "look_dirty")

    def set_offset(self, name: str, by) -> None:
        """Move ``name`` and what rides on it ``by`` metres in the world frame (``None``:
        back in place), over its joint motion. Only a moving part (see ``moving``) has
        an actor of its own to move."""
        if by is None:
            self._offsets.pop(name, None)
        else:
            self._offsets[name] = np.asarray(by, dtype=float)
        self._worlds = None
        self._joints_dirty = True

    def set_opacity(self, opacity: float) -> None:
        """See the machine through (AR's ghost: the real machine shows behind the twin)."""
        for group in self.groups:
            group.actor.GetProperty().SetOpacity(opacity)

    def set_visible(self, name: str, visible: bool) -> None:
        """Show or hide ``name`` and every part under it."""
        self.set_hidden(self._subtree[name], not visible)

    def set_hidden(self, idx: np.ndarray, hidden: bool) -> None:
        """Hide (or show) the parts ``idx`` themselves, not what is under them."""
        idx = np.asarray(idx, dtype=np.int64)
        self._hidden[idx] = hidden
        self._mark(idx, "points_dirty")

    def subtree(self, name: str) -> np.ndarray:
        """Indices of ``name`` and every part under it."""
        return self._subtree[name]

    def is_visible(self, name: str) -> bool:
        """False if the part is hidden."""
        return not self._hidden[self.index[name]]

    def set_joint(self, name: str, matrix: np.ndarray) -> None:
        """Set the joint motion (4x4, in the part's frame) of a moving part."""
        self.joints[name] = matrix
        self._worlds = None
        self._joints_dirty = True

    def _mark(self, idx: np.ndarray, flag: str) -> None:
        touched = np.zeros(len(self.groups) + 1, dtype=bool)
        touched[self._group_of_part[idx] + 1] = True  # 0: a part without geometry
        for g in np.flatnonzero(touched[1:]):
            setattr(self.groups[g], flag, True)

    def flush(self) -> None:
        """Write pending colours, visibility and joint matrices into VTK, in place."""
        for group in self.groups:
            pp = group.point_part
            if group.look_dirty:
                has_override = self._has_override.take(pp)
                group.coloured = slice(None) if has_override.all() else np.flatnonzero(has_override)
                group.coloured_part = pp[group.coloured]
                group.rgba[:] = self._tinted(group.look, pp)
            if group.look_dirty or group.colours_dirty:
                part = group.coloured_part
                group.rgba[group.coloured] = self._tinted(self._override.take(part, axis=0), part)
                for owner, points, colours in self._point_colours.values():  # fields, over their parts' one colour
                    if owner is group:
                        group.rgba[points] = self._tinted(colours, pp[points])
                group.mesh.GetPointData().GetArray("rgba").Modified()  # only the colours are uploaded again
                group.colours_dirty = group.look_dirty = False
            if group.points_dirty:
                if group.rest_points is None:  # kept only once something is hidden
                    group.rest_points = np.array(group.mesh.points)
                first_point = np.zeros(len(self.names), dtype=np.int64)
                present, first = np.unique(pp, return_index=True)
                first_point[present] = first
                collapse_to = group.rest_points[first_point[pp]]
                hidden = self._hidden[pp][:, None]
                group.mesh.points[:] = np.where(hidden, collapse_to, group.rest_points)
                group.mesh.Modified()
                group.points_dirty = False
        if self._joints_dirty:  # a joint moved since the last flush
            self._joints_dirty = False
            worlds = self.world_transforms()
            for group in self.groups:
                if group.root is not None:
                    group.actor.user_matrix = worlds[group.root]
            self.selection.follow()

    def _tinted(self, rgb: np.ndarray, point_part: np.ndarray) -> np.ndarray:
        """``rgb`` (RGBA) of points of parts ``point_part`` with the parts' alarm tints mixed
        in, then faded where dimmed."""
        if self._tint_weight.any():  # costs nothing while no part is in alarm
            w = self._tint_weight.take(point_part)[:, None]
            rgb = np.rint(rgb * (1 - w) + self._tint.take(point_part, axis=0) * w)
        if self._dim.any():
            w = self._dim.take(point_part)[:, None]
            rgb = np.rint(rgb * (1 - w) + DIM_RGBA * w)
        return rgb

    def world_transforms(self) -> dict[str, np.ndarray]:
        """Current world matrix of every part's frame (kept until a joint moves)."""
        if self._worlds is None:
            self._worlds = self.assembly.world_transforms(self.joints)
            for name, by in self._offsets.items():
                for i in self._subtree[name]:
                    moved = self._worlds[self.names[i]].copy()
                    moved[:3, 3] += by
                    self._worlds[self.names[i]] = moved
        return self._worlds

    def close(self) -> None:
        """Remove every actor (and the selection's top layer) this view added."""
        self.selection.close()
        for group in self.groups:
            self.plotter.remove_actor(group.actor, reset_camera=False, render=False)
        self.groups, self._group_of_actor = [], {}

    # -- queries --------------------------------------------------------------------

    def pick(self, x: int, y: int) -> str | None:
        """Name of the visible part under display pixel ``(x, y)`` (origin bottom left)."""
        if not self._picker.Pick(x, y, 0, self.plotter.renderer):
            return None
        group = self._group_of_actor.get(id(self._picker.GetActor()))
        cell = self._picker.GetCellId()
        if group is None or cell < 0:
            return None
        return self.names[group.cell_part[cell]]

    def bounds(self, name: str | None = None, own: bool = False) -> np.ndarray | None:
        """World bounds ``[[min], [max]]`` of a part and its children at the current pose
        (with ``own``: of what stands for the part itself, see :meth:`own_geometry`)."""
        worlds = self.world_transforms()
        if name is None:
            idx = np.arange(len(self.names))
        else:
            idx = self.own_geometry(name) if own else self._subtree[name]
        pts = []
        for i in idx:
            if self._local_bounds[i] is not None and not self._hidden[i]:
                m = worlds[self.names[i]]
                pts.append(self._local_bounds[i] @ m[:3, :3].T + m[:3, 3])
        if not pts:
            return None
        allpts = np.concatenate(pts)
        return np.array([allpts.min(axis=0), allpts.max(axis=0)])

    def extent(self, name: str) -> tuple[np.ndarray, float] | None:
        """Centre (in ``name``'s own frame) and radius of a sphere around what stands for
        ``name`` (see :meth:`own_geometry`) at rest: a size that stays put as the part turns,
        where its box would grow and shrink; None without geometry."""
        rest = self.assembly.world_transforms()
        to_own = np.linalg.inv(rest[name])
        pts = []
        for i in self.own_geometry(name):
            if self._local_bounds[i] is not None:
                m = to_own @ rest[self.names[i]]
                pts.append(self._local_bounds[i] @ m[:3, :3].T + m[:3, 3])
        if not pts:
            return None
        allpts = np.concatenate(pts)
        lo, hi = allpts.min(axis=0), allpts.max(axis=0)
        return (lo + hi) / 2, float(np.linalg.norm(hi - lo) / 2)

    def surface_samples(self, name: str, count: int = 24) -> np.ndarray | None:
        """``count`` points spread over the surface of what stands for ``name`` (see
        :meth:`own_geometry`), in ``name``'s own frame (``world_transforms()[name]`` puts
        them where the part is now): where to ask the frame whether the part shows.

        Triangle centres, drawn with a fixed seed in proportion to triangle area, so a
        large face is asked about more often than a fillet; None without geometry.
        """
        rest = self.assembly.world_transforms()
        to_own = np.linalg.inv(rest[name])
        centres, areas = [], []
        for i in self.own_geometry(name):
            part = self.assembly[self.names[i]]
            if not part.has_geometry or not len(part.faces):
                continue
            m = to_own @ rest[part.name]
            corners = part.vertices[part.faces] @ m[:3, :3].T + m[:3, 3]
            centres.append(corners.mean(axis=1))
            areas.append(np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1))
        if not centres:
            return None
        centres, areas = np.concatenate(centres), np.concatenate(areas)
        if np.count_nonzero(areas) <= count:  # few triangles: every one with an area (or any, if none has)
            return centres[np.flatnonzero(areas)] if areas.any() else centres[:count]
        return centres[np.random.default_rng(0).choice(len(centres), size=count, replace=False, p=areas / areas.sum())]

    def highlight(self, name: str | None) -> None:
        """Select ``name`` (a group: every part under it): outlined, and seen through what
        covers it (see :mod:`overlays.selection`); ``None`` clears it."""
        self.selection.show(name)


def _rgba(rgb: np.ndarray) -> np.ndarray:
    """Opaque RGBA of ``rgb`` (n x 3 uint8)."""
    return np.c_[rgb, np.full(len(rgb), 255, np.uint8)]
