"""What the importer accepts and promises, without importing it (it loads trimesh):
for the command line, the twin loader and the window, which only need to know."""

import numpy as np

#: File suffixes the importer accepts (STEP through cascadio, DAE through pycollada).
SUPPORTED_SUFFIXES = (
    ".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".dae", ".3mf", ".step", ".stp",
)

#: The colour of parts whose file gives none.
DEFAULT_COLOR = np.array([178, 180, 186], dtype=np.uint8)

#: Length units a twin may declare, in metres.
UNITS = {"m": 1.0, "mm": 1e-3, "cm": 1e-2, "in": 0.0254, "ft": 0.3048}

#: Part of the key of every imported file in the mesh cache: bump it whenever what
#: :func:`meshes.importer.load_assembly` makes of a file changes (colours, names, units, geometry).
VERSION = 3


class MeshImportError(Exception):
    """A mesh file could not be read; the message says why, for the user."""
