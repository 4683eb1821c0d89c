"""The VTK classes the overlays use, imported from their own modules.

``import vtk`` loads every VTK module (0.3-0.8 s at start-up); these few load in
milliseconds once pyvista is in. Modules use it as ``from overlays import vtk_classes as vtk``.
"""

from vtkmodules.vtkCommonCore import (  # noqa: F401
    VTK_ID_TYPE,
    VTK_UNSIGNED_CHAR,
    vtkFloatArray,
    vtkLookupTable,
    vtkPoints,
)
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData  # noqa: F401
from vtkmodules.vtkCommonMath import vtkMatrix4x4  # noqa: F401
from vtkmodules.vtkFiltersHybrid import vtkPolyDataSilhouette  # noqa: F401
from vtkmodules.vtkRenderingCore import (  # noqa: F401
    vtkActor,
    vtkCellPicker,
    vtkPolyDataMapper,
    vtkPolyDataMapper2D,
    vtkRenderer,
    vtkTexture,
    vtkTexturedActor2D,
)
