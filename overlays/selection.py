"""The selected part: its outline, and an x-ray of it when other parts cover it.

The outline is a silhouette-and-feature-edge actor per rigid group the part spans,
depth-tested like the machine. When the frame shows none of the part (asked of the
depth buffer at points on its surface, see :mod:`overlays.ontop`), a translucent ghost
of it and its outline are also drawn on top, so what covers it is seen through; a part
in view gets no ghost, so nothing washes over its data colour.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
from overlays import vtk_classes as vtk

from overlays.ontop import TopLayer

#: Outline colour until the scene picks one far from its colour maps (see
#: :func:`overlays.palette.selection_colour`).
DEFAULT_RGB = (0, 230, 255)
#: A drawn surface nearer than a point on the part by less than this share of the part's
#: radius is the part itself (depth precision, the pixel's slope on a steep face).
COVER_TOLERANCE = 0.02
GHOST_OPACITY = 0.45  # enough to see the part, and what covers it through it
_EDGE_ANGLE = 60.0  # degrees: sharper edges are outlined besides the silhouette


class Selection:
    """Outline and x-ray of one part of a :class:`~overlays.parts.PartMeshes`.

    Parameters
    ----------
    parts : PartMeshes
        The view whose part is selected.
    """

    def __init__(self, parts):
        self.parts = parts
        self.rgb = np.array(DEFAULT_RGB, dtype=np.uint8)
        self.xray = True  # ghost a covered selected part on top
        self.name: str | None = None
        self.hidden = False  # the selected part was covered in the last frame
        self._outlines: list[tuple[vtk.vtkActor, object]] = []  # (actor, its group)
        self._ghosts: list[tuple[vtk.vtkActor, vtk.vtkActor, object]] = []  # (ghost, outline on top, group)
        self._layer: TopLayer | None = None
        self._samples: np.ndarray | None = None  # points on the part's surface, in its own frame
        self._tolerance = 0.0
        self._world = np.eye(4)  # the part's frame now

    def show(self, name: str | None) -> None:
        """Outline ``name`` (a group: every part under it); ``None`` clears it."""
        self._clear()
        self.name = name
        if name is None:
            return
        plotter = self.parts.plotter
        if self.xray and self._layer is None:
            self._layer = TopLayer(plotter, self._on_frame)
        idx = self.parts.own_geometry(name)
        self._samples = self.parts.surface_samples(name)
        extent = self.parts.extent(name)
        self._tolerance = COVER_TOLERANCE * extent[1] if extent else 0.0
        for group in self.parts.groups:  # a group may span the static and moving meshes
            cells = np.flatnonzero(np.isin(group.cell_part, idx))
            if not len(cells):
                continue
            piece = group.mesh.extract_cells(cells).extract_surface(algorithm="dataset_surface")
            actor = self._outline(piece, plotter.renderer)
            plotter.add_actor(actor, reset_camera=False, pickable=False, render=False)
            self._outlines.append((actor, group))
            if self._layer is not None:
                ghost, top = self._ghost(piece), self._outline(piece, self._layer.renderer)
                self._layer.renderer.AddActor(ghost)
                self._layer.renderer.AddActor(top)
                self._ghosts.append((ghost, top, group))
        self.follow()

    def follow(self) -> None:
        """Keep up with the part's group matrices and pose (after joints moved)."""
        for actor, group in self._outlines:
            actor.SetUserMatrix(group.actor.GetUserMatrix())
        for ghost, top, group in self._ghosts:
            ghost.SetUserMatrix(group.actor.GetUserMatrix())
            top.SetUserMatrix(group.actor.GetUserMatrix())
        if self.name is not None:
            self._world = self.parts.world_transforms()[self.name]

    def set_colour(self, rgb) -> None:
        """Draw the outline and ghost in ``rgb`` (0-255)."""
        self.rgb = np.asarray(rgb, dtype=np.uint8)
        for actor in self._actors():
            actor.GetProperty().SetColor(*(self.rgb / 255.0))

    def close(self) -> None:
        """Remove every actor, and the top layer."""
        self._clear()
        if self._layer is not None:
            self._layer.close()
            self._layer = None

    def _actors(self):
        yield from (a for a, _ in self._outlines)
        for ghost, top, _ in self._ghosts:
            yield from (ghost, top)

    def _clear(self) -> None:
        for actor, _ in self._outlines:
            self.parts.plotter.remove_actor(actor, reset_camera=False, render=False)
        for ghost, top, _ in self._ghosts:
            self._layer.renderer.RemoveActor(ghost)
            self._layer.renderer.RemoveActor(top)
        self._outlines, self._ghosts, self._samples, self.name, self.hidden = [], [], None, None, False

    def _on_frame(self, layer: TopLayer) -> None:
        """Between the machine and the top layer: ghost the part if it is covered now."""
        hidden = False
        if self._ghosts and self._samples is not None:
            points = self._samples @ self._world[:3, :3].T + self._world[:3, 3]
            hidden = bool(layer.covered(points, self._tolerance).all())
        self.hidden = hidden
        for ghost, top, _ in self._ghosts:
            ghost.SetVisibility(hidden)
            top.SetVisibility(hidden)

    def _ghost(self, piece: pv.PolyData) -> vtk.vtkActor:
        """A translucent, lit copy of ``piece`` in the selection colour (front faces only:
        the nearest surface is what a see-through view should show)."""
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputData(piece)
        mapper.ScalarVisibilityOff()
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetColor(*(self.rgb / 255.0))
        prop.SetOpacity(GHOST_OPACITY)
        prop.BackfaceCullingOn()
        actor.SetPickable(False)
        actor.SetVisibility(False)
        return actor

    def _outline(self, piece: pv.PolyData, renderer) -> vtk.vtkActor:
        """A bright silhouette-and-feature-edge actor for ``piece`` as seen by ``renderer``."""
        silhouette = vtk.vtkPolyDataSilhouette()
        silhouette.SetInputData(piece)
        silhouette.SetCamera(renderer.GetActiveCamera())
        silhouette.SetEnableFeatureAngle(True)
        silhouette.SetFeatureAngle(_EDGE_ANGLE)
        silhouette.BorderEdgesOn()
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputConnection(silhouette.GetOutputPort())
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetColor(*(self.rgb / 255.0))
        prop.SetLineWidth(3.0)
        prop.SetLighting(False)
        actor.SetPickable(False)
        silhouette.SetProp3D(actor)
        return actor
