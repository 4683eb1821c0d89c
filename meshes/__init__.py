"""Geometry in: CAD files become an :class:`Assembly` of named :class:`Part` objects.

This layer knows numpy and trimesh only: which parts there are, their shape, their
parent, and where each part's frame (its pivot) sits. It knows nothing of signals,
VTK or Qt.
"""

from meshes.assembly import Assembly, Part
from meshes.importer import SUPPORTED_SUFFIXES, MeshImportError, load_assembly
from meshes.transforms import rotation, translation

__all__ = [
    "Assembly",
    "Part",
    "SUPPORTED_SUFFIXES",
    "MeshImportError",
    "load_assembly",
    "rotation",
    "translation",
]
