"""Label rule (template -> text) and one VTK actor that draws every label."""

from __future__ import annotations

import string
from collections.abc import Mapping

import numpy as np
import vtk

#: Shown in place of a value that has not arrived yet.
NO_VALUE = "—"


class LabelRule:
    """Formats a template such as ``"DE bearing {temp:.1f} °C"`` with signal values.

    Parameters
    ----------
    template : str
        Text with ``{name}`` or ``{name:format}`` fields.

    Raises
    ------
    ValueError
        If a field is not a plain name with an optional number format (no
        attributes, indices or conversions: the template comes from a user's file).
    """

    def __init__(self, template: str):
        self.template = template
        self._pieces = []
        for literal, name, spec, conversion in string.Formatter().parse(template):
            if name is not None:
                if not name.isidentifier() or conversion:
                    raise ValueError(f"label field {{{name}}} must be a signal name, optionally "
                                     "with a format such as {temp:.1f}")
                try:
                    format(1.0, spec or "")
                except ValueError:
                    raise ValueError(f"bad number format {spec!r} in label field {{{name}}}") from None
            self._pieces.append((literal, name, spec or ""))
        self.names = {name for _, name, _ in self._pieces if name}

    def text(self, values: Mapping[str, float | None]) -> str:
        """The label text; a missing value shows as :data:`NO_VALUE`."""
        out = []
        for literal, name, spec in self._pieces:
            out.append(literal)
            if name:
                value = values.get(name)
                out.append(NO_VALUE if value is None else format(value, spec))
        return "".join(out)


class LabelLayer:
    """All labels of a scene in one placement-mapper actor, updated in place.

    Parameters
    ----------
    renderer : pyvista.Renderer
        Where the labels are drawn.
    count : int
        Number of labels.
    font_size : int
        Text size in pixels.
    """

    def __init__(self, renderer, count: int, font_size: int = 15):
        self.points = vtk.vtkPoints()
        self.points.SetNumberOfPoints(count)
        self.texts = vtk.vtkStringArray()
        self.texts.SetName("labels")
        self.texts.SetNumberOfValues(count)
        self.priority = vtk.vtkIntArray()
        self.priority.SetName("priority")
        self.priority.SetNumberOfValues(count)
        for i in range(count):
            self.points.SetPoint(i, 0.0, 0.0, 0.0)
            self.texts.SetValue(i, "")
            self.priority.SetValue(i, 1)
        self.polydata = vtk.vtkPolyData()
        self.polydata.SetPoints(self.points)
        self.polydata.GetPointData().AddArray(self.texts)
        self.polydata.GetPointData().AddArray(self.priority)

        text = vtk.vtkTextProperty()
        text.SetFontSize(font_size)
        text.SetColor(1.0, 1.0, 1.0)
        text.SetBold(False)
        hierarchy = vtk.vtkPointSetToLabelHierarchy()
        hierarchy.SetInputData(self.polydata)
        hierarchy.SetLabelArrayName("labels")
        hierarchy.SetPriorityArrayName("priority")
        hierarchy.SetTextProperty(text)
        mapper = vtk.vtkLabelPlacementMapper()
        mapper.SetInputConnection(hierarchy.GetOutputPort())
        mapper.PlaceAllLabelsOn()  # a technician must see every label, even crowded
        mapper.SetShapeToRoundedRect()
        mapper.SetStyleToFilled()
        mapper.SetBackgroundColor(0.12, 0.14, 0.18)
        mapper.SetBackgroundOpacity(0.85)
        mapper.SetMargin(4)
        self.actor = vtk.vtkActor2D()
        self.actor.SetMapper(mapper)
        self.actor.SetPickable(False)
        renderer.add_actor(self.actor, reset_camera=False, pickable=False, render=False)

    def set(self, i: int, position, text: str) -> None:
        """Place label ``i`` at a world ``position`` with ``text``."""
        self.points.SetPoint(i, *np.asarray(position, dtype=float))
        self.texts.SetValue(i, text)

    def text(self, i: int) -> str:
        """Current text of label ``i``."""
        return self.texts.GetValue(i)

    def flush(self) -> None:
        """Tell VTK the labels changed."""
        self.points.Modified()
        self.texts.Modified()
        self.polydata.Modified()
