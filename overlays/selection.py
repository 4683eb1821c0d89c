"""The selected part: its outline, and an x-ray of it when other parts cover it.

The outline is a silhouette-and-feature-edge actor per rigid group the part spans,
depth-tested like the machine. When the frame shows the part covered at its centre
(asked of the depth buffer, see :mod:`overlays.ontop`), a translucent ghost of it and
its outline are also drawn on top, so what covers it is seen through; a part in plain
view gets no ghost, so nothing washes over its data colour.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
import vtk

from overlays.ontop import TopLayer

#: Outline colour until the scene picks one far from its colour maps (see
#: :func:`overlays.palette.selection_colour`).
DEFAULT_RGB = (0, 230, 255)
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
        self._box: np.ndarray | None = None

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
        self._box = self.parts.bounds(self.name, own=True) if self.name is not None else None

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
        self._outlines, self._ghosts, self._box, self.name, self.hidden = [], [], None, None, False

    def _on_frame(self, layer: TopLayer) -> None:
        """Between the machine and the top layer: ghost the part if it is covered now."""
        hidden = bool(self._ghosts and self._box is not None and layer.hidden(self._box[None])[0])
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
