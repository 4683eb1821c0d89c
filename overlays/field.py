"""A part's surface coloured from a few point sensors (thermocouples on a casing).

Each surface point takes the inverse-distance-weighted mean of the sensors' values
(Shepard's method, weights ``1 / distance ** power``). Chosen over radial basis
functions because it never leaves the sensors' range: a surface hotter than every
thermocouple would tell a technician something nobody measured. At a sensor the
surface takes that sensor's value; between sensors it lies between them.

The weights are computed once per mesh; a frame is one matrix product (the weights of
the sensors that count, normalised, times their values) and a colour lookup. A sensor
that is not live drops out: the weights of the others are normalised again, once per
change of which sensors count. Distances are straight lines through the part, not paths
over its surface.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from overlays.colormap import ColourRule

MARKER_PX = 11  # sensor markers, on screen
_UNTRUSTED_RGB = (150, 150, 150)  # a sensor that does not count: grey


class SurfaceField:
    """Interpolation from sensors to surface points, weights precomputed.

    Parameters
    ----------
    points : (n, 3) array
        The surface's points.
    sensors : (k, 3) array
        The sensors' positions, in the same frame.
    power : float
        How fast a sensor's weight falls with distance (2: as its square).
    """

    def __init__(self, points: np.ndarray, sensors: np.ndarray, power: float = 2.0):
        points, sensors = np.asarray(points, np.float64), np.asarray(sensors, np.float64)
        size = float(np.ptp(np.r_[points, sensors], axis=0).max()) or 1.0
        distance = np.stack([np.linalg.norm(points - sensor, axis=1) for sensor in sensors], axis=1)
        # relative to the part's size, and never zero: a point on a sensor gets ~1e24 times its
        # weight, so it takes that sensor's value to float precision
        self._weights = (np.maximum(distance / size, 1e-6) ** -power).astype(np.float32)
        self._counted: np.ndarray | None = None
        self._normalised = np.zeros((len(points), 0), np.float32)

    def values(self, readings: np.ndarray) -> np.ndarray:
        """The surface's values from the sensors' ``readings`` (NaN: the sensor does not
        count); NaN everywhere when none counts."""
        readings = np.asarray(readings, np.float32)
        counted = np.isfinite(readings)
        if self._counted is None or not np.array_equal(counted, self._counted):
            w = self._weights[:, counted]
            self._normalised = w / w.sum(axis=1, keepdims=True) if counted.any() else w
            self._counted = counted
        if not counted.any():
            return np.full(len(self._weights), np.nan, np.float32)
        return self._normalised @ readings[counted]


class FieldLayer:
    """A field binding drawn: the part's points coloured, a marker at each sensor.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Where the markers go.
    parts : overlays.parts.PartMeshes
        The part meshes, coloured point by point.
    part : str
        The part the field covers.
    sensors : (k, 3) array
        Sensor positions in the part's frame.
    rule : ColourRule
        Values -> colours.
    power : float
        See :class:`SurfaceField`.
    """

    def __init__(self, plotter: pv.Plotter, parts, part: str, sensors: np.ndarray, rule: ColourRule,
                 power: float = 2.0):
        self.plotter, self.parts, self.part, self.rule = plotter, parts, part, rule
        self.sensors = np.asarray(sensors, float)
        self.field = SurfaceField(parts.surface_points(part), self.sensors, power)
        self._markers = pv.PolyData(self.sensors)
        self._markers.point_data["rgba"] = np.full((len(self.sensors), 4), 255, np.uint8)
        self.actor = plotter.add_mesh(self._markers, scalars="rgba", rgba=True, render_points_as_spheres=True,
                                      point_size=MARKER_PX, show_scalar_bar=False, reset_camera=False,
                                      render=False, pickable=False, lighting=False)
        self.follow()

    def update(self, readings: np.ndarray, counted: np.ndarray) -> None:
        """Colour the surface from ``readings`` (k values in the rule's unit; NaN: none
        yet) of the sensors ``counted`` (bool per sensor: live)."""
        readings = np.where(counted, readings, np.nan)
        self.parts.set_point_colours(self.part, self.rule.rgb(self.field.values(readings)))  # none: no-data colour
        colours = self._markers.point_data["rgba"]
        colours[:, :3] = np.where(np.isfinite(readings)[:, None], self.rule.rgb(np.nan_to_num(readings)),
                                  _UNTRUSTED_RGB)
        self._markers.point_data["rgba"] = colours  # (re)uploaded

    def hide(self) -> None:
        """Show the part in its own colours, without markers (the data colours hidden)."""
        self.parts.set_point_colours(self.part, None)
        self.actor.SetVisibility(False)

    def show(self) -> None:
        """Show the markers again (the next :meth:`update` colours the surface)."""
        self.actor.SetVisibility(True)

    def follow(self) -> None:
        """Put the markers where the part is now (after it moved)."""
        self.actor.user_matrix = self.parts.world_transforms()[self.part]

    def close(self) -> None:
        """Take the markers out of the plotter and the colours off the part."""
        self.plotter.remove_actor(self.actor, reset_camera=False, render=False)
        self.parts.set_point_colours(self.part, None)

