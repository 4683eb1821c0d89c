"""A camera's picture behind the machine (AR): the renderer's background is the image.

The picture is the renderer's textured background, stretched over the whole view: no
extra renderer or layer, and each new frame only rewrites the texture's pixels in place.
The view must have the picture's aspect (the camera that drew it is matched to it, see
:func:`overlays.camera.match_pinhole`). :meth:`CameraBackdrop.close` gives the renderer
its own background back.
"""

from __future__ import annotations

import numpy as np
from overlays import vtk_classes as vtk
from vtkmodules.util.numpy_support import numpy_to_vtk


class CameraBackdrop:
    """Shows camera frames behind ``plotter``'s machine.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Whose main renderer's background the frames become.
    """

    def __init__(self, plotter):
        self.renderer = plotter.renderer
        self._was = (self.renderer.GetGradientBackground(), self.renderer.GetTexturedBackground())
        self._image = vtk.vtkImageData()
        self._texture = vtk.vtkTexture()
        self._texture.SetInputData(self._image)
        self._texture.InterpolateOn()
        self._pixels: np.ndarray | None = None
        self.size: tuple[int, int] | None = None  # the frames' width and height

    def show(self, frame: np.ndarray) -> None:
        """Put ``frame`` (h x w x 3 BGR, as OpenCV reads it; or grey) behind the machine."""
        if frame.ndim == 2:  # a monochrome camera
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        frame = frame[:, :, :3]  # BGRA: the picture without its alpha
        h, w = frame.shape[:2]
        rgb = frame[::-1, :, ::-1].reshape(-1, 3)  # VTK's rows go up, its channels are RGB
        if self._pixels is None or self.size != (w, h):
            self._pixels = np.ascontiguousarray(rgb)
            self._image.SetDimensions(w, h, 1)
            self._image.GetPointData().SetScalars(numpy_to_vtk(self._pixels, deep=False))
            self.size = (w, h)
            self.renderer.SetBackgroundTexture(self._texture)
            self.renderer.GradientBackgroundOff()
            self.renderer.TexturedBackgroundOn()
        else:
            self._pixels[:] = rgb  # in place: only the texture is uploaded again
            self._image.GetPointData().GetScalars().Modified()
        self._image.Modified()

    def close(self) -> None:
        """The renderer's own background again."""
        gradient, textured = self._was
        self.renderer.SetGradientBackground(gradient)
        self.renderer.SetTexturedBackground(textured)
        self.renderer.SetBackgroundTexture(None)
