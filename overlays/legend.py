"""Colour legends: one scalar bar per colour binding, laid out along the left edge."""

from __future__ import annotations

import vtk

from overlays.colormap import ColourRule


def add_legend(renderer, rule: ColourRule, title: str, slot: int, slots: int) -> vtk.vtkScalarBarActor:
    """Add a horizontal colour bar for ``rule`` in slot ``slot`` of ``slots``.

    Parameters
    ----------
    renderer : pyvista.Renderer
        Where the bar is drawn.
    rule : ColourRule
        The colour map and range shown.
    title : str
        Signal name and unit, e.g. ``"bearing_de_temp [°C]"``.
    slot, slots : int
        Position from the bottom, and how many bars share the edge.
    """
    height = min(0.09, 0.6 / max(slots, 1))
    bar = vtk.vtkScalarBarActor()
    bar.SetLookupTable(lookup_table(rule))
    bar.SetTitle(title)
    bar.SetOrientationToHorizontal()
    bar.SetNumberOfLabels(5)
    bar.SetLabelFormat("%-#6.4g")
    bar.SetBarRatio(0.3)
    bar.UnconstrainedFontSizeOn()
    bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    bar.GetPositionCoordinate().SetValue(0.03, 0.02 + slot * height)
    bar.SetWidth(0.3)
    bar.SetHeight(height * 0.95)
    for prop, size in ((bar.GetTitleTextProperty(), 13), (bar.GetLabelTextProperty(), 11)):
        prop.SetFontSize(size)
        prop.SetColor(0.95, 0.95, 0.95)
        prop.SetBold(False)
        prop.SetItalic(False)
        prop.SetShadow(True)
    bar.SetPickable(False)
    renderer.add_actor(bar, reset_camera=False, pickable=False, render=False)
    return bar


def lookup_table(rule: ColourRule) -> vtk.vtkLookupTable:
    """A VTK lookup table of the rule's map and range."""
    lut = vtk.vtkLookupTable()
    lut.SetNumberOfTableValues(len(rule.table))
    lut.SetTableRange(rule.low, rule.high)
    for i, (r, g, b) in enumerate(rule.table / 255.0):
        lut.SetTableValue(i, r, g, b, 1.0)
    lut.Build()
    return lut
