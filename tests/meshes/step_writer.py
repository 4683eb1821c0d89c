"""Write small STEP AP214 files of named boxes, for testing the STEP importer.

The file is an assembly product with one part product per box. Each part holds a
B-rep solid (vertices, edges, loops, planar faces, a closed shell) in its own frame
from the origin to the box size, and is placed at the box's min corner by the
assembly. OpenCASCADE reads each box back as a node named after the box.

Entity layout (ISO 10303-21, AP214 ``AUTOMOTIVE_DESIGN`` schema)::

    PRODUCT -> PRODUCT_DEFINITION_FORMATION -> PRODUCT_DEFINITION
            -> PRODUCT_DEFINITION_SHAPE <- SHAPE_DEFINITION_REPRESENTATION -> representation
    assembly PRODUCT_DEFINITION <- NEXT_ASSEMBLY_USAGE_OCCURRENCE -> part PRODUCT_DEFINITION
    NAUO <- PRODUCT_DEFINITION_SHAPE <- CONTEXT_DEPENDENT_SHAPE_REPRESENTATION
         -> (REPRESENTATION_RELATIONSHIP_WITH_TRANSFORMATION: part rep -> assembly rep)
"""

from __future__ import annotations

from pathlib import Path

#: SI prefix of the length unit, per unit name.
_PREFIX = {"m": "$", "mm": ".MILLI.", "cm": ".CENTI."}


def write_step_boxes(path, boxes, units: str = "mm", assembly: str = "assembly") -> Path:
    """Write named axis-aligned boxes as a STEP AP214 assembly.

    Parameters
    ----------
    path : str or Path
        File to write.
    boxes : iterable of tuple
        ``(name, min_corner, max_corner)`` or ``(name, min_corner, max_corner, rgb)``
        with ``rgb`` as three 0..255 integers. Coordinates are in ``units``.
    units : {'mm', 'cm', 'm'}
        Length unit the file declares.
    assembly : str
        Name of the assembly product holding the boxes.

    Returns
    -------
    Path
        ``path``.
    """
    if units not in _PREFIX:
        raise ValueError(f"units must be one of {sorted(_PREFIX)}, not {units!r}")
    w = _Writer()
    app = w.add("APPLICATION_CONTEXT('automotive_design')")
    w.add(f"APPLICATION_PROTOCOL_DEFINITION('international standard','automotive_design',2000,{app})")
    product_ctx = w.add(f"PRODUCT_CONTEXT('',{app},'mechanical')")
    definition_ctx = w.add(f"PRODUCT_DEFINITION_CONTEXT('part definition',{app},'design')")
    ctx = _units_context(w, _PREFIX[units])

    def product(name):
        """A product with its definition and shape; returns (definition, shape)."""
        prod = w.add(f"PRODUCT({_str(name)},{_str(name)},'',({product_ctx}))")
        formation = w.add(f"PRODUCT_DEFINITION_FORMATION('','',{prod})")
        definition = w.add(f"PRODUCT_DEFINITION('design','',{formation},{definition_ctx})")
        shape = w.add(f"PRODUCT_DEFINITION_SHAPE('','',{definition})")
        return definition, shape

    origin = _placement(w, (0.0, 0.0, 0.0))
    asm_definition, asm_shape = product(assembly)
    box_list = [(box[0], box[1], box[2], box[3] if len(box) > 3 else None) for box in boxes]
    placements = [_placement(w, lo) for _, lo, _, _ in box_list]
    asm_rep = w.add(f"SHAPE_REPRESENTATION({_str(assembly)},({','.join([origin, *placements])}),{ctx})")
    w.add(f"SHAPE_DEFINITION_REPRESENTATION({asm_shape},{asm_rep})")

    styled = []
    for (name, lo, hi, rgb), placement in zip(box_list, placements):
        size = [float(b) - float(a) for a, b in zip(lo, hi)]
        if min(size) <= 0:
            raise ValueError(f"box {name!r}: max corner must exceed min corner on every axis")
        definition, shape = product(name)
        solid = _box_solid(w, name, size)
        part_origin = _placement(w, (0.0, 0.0, 0.0))
        part_rep = w.add(f"ADVANCED_BREP_SHAPE_REPRESENTATION({_str(name)},({solid},{part_origin}),{ctx})")
        w.add(f"SHAPE_DEFINITION_REPRESENTATION({shape},{part_rep})")
        # The occurrence of the part in the assembly, placed at the box's min corner.
        usage = w.add(
            f"NEXT_ASSEMBLY_USAGE_OCCURRENCE({_str(name)},{_str(name)},'',{asm_definition},{definition},$)"
        )
        usage_shape = w.add(f"PRODUCT_DEFINITION_SHAPE('','',{usage})")
        move = w.add(f"ITEM_DEFINED_TRANSFORMATION('','',{part_origin},{placement})")
        relation = w.add(
            f"(REPRESENTATION_RELATIONSHIP('','',{part_rep},{asm_rep})"
            f"REPRESENTATION_RELATIONSHIP_WITH_TRANSFORMATION({move})"
            "SHAPE_REPRESENTATION_RELATIONSHIP())"
        )
        w.add(f"CONTEXT_DEPENDENT_SHAPE_REPRESENTATION({relation},{usage_shape})")
        if rgb is not None:
            styled.append(_colour(w, solid, rgb))
    if styled:
        w.add(f"MECHANICAL_DESIGN_GEOMETRIC_PRESENTATION_REPRESENTATION('',({','.join(styled)}),{ctx})")

    path = Path(path)
    path.write_text(w.text(path.name), encoding="ascii")
    return path


class _Writer:
    """Numbers entity instances ``#1, #2, ...`` in the order they are added."""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, entity: str) -> str:
        ref = f"#{len(self.lines) + 1}"
        self.lines.append(f"{ref}={entity};")
        return ref

    def text(self, filename: str) -> str:
        header = [
            "ISO-10303-21;",
            "HEADER;",
            "FILE_DESCRIPTION(('boxes for importer tests'),'2;1');",
            f"FILE_NAME({_str(filename)},'2024-01-01T00:00:00',(''),(''),'','','');",
            "FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));",
            "ENDSEC;",
            "DATA;",
        ]
        return "\n".join([*header, *self.lines, "ENDSEC;", "END-ISO-10303-21;", ""])


def _units_context(w: _Writer, prefix: str) -> str:
    """A 3D geometric context with a length unit, radians, steradians and a tolerance."""
    # Complex instances list their partial entities in alphabetical order.
    length = w.add(f"(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT({prefix},.METRE.))")
    angle = w.add("(NAMED_UNIT(*)PLANE_ANGLE_UNIT()SI_UNIT($,.RADIAN.))")
    solid_angle = w.add("(NAMED_UNIT(*)SI_UNIT($,.STERADIAN.)SOLID_ANGLE_UNIT())")
    tolerance = w.add(
        f"UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(1.E-07),{length},"
        "'distance_accuracy_value','confusion accuracy')"
    )
    return w.add(
        "(GEOMETRIC_REPRESENTATION_CONTEXT(3)"
        f"GLOBAL_UNCERTAINTY_ASSIGNED_CONTEXT(({tolerance}))"
        f"GLOBAL_UNIT_ASSIGNED_CONTEXT(({length},{angle},{solid_angle}))"
        "REPRESENTATION_CONTEXT('','3D'))"
    )


def _box_solid(w: _Writer, name: str, size) -> str:
    """A MANIFOLD_SOLID_BREP of the box ``[0, size]``; returns its reference."""
    # Corner (i, j, k) in {0, 1}^3 sits at (i * sx, j * sy, k * sz).
    corners = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    vertex = {
        c: w.add(f"VERTEX_POINT('',{_point(w, [c[a] * size[a] for a in range(3)])})") for c in corners
    }
    edges: dict[tuple, str] = {}  # (start corner, end corner) -> EDGE_CURVE, start < end

    def edge(start, end):
        """An ORIENTED_EDGE from ``start`` to ``end``, sharing one EDGE_CURVE per edge."""
        a, b = sorted((start, end))
        if (a, b) not in edges:
            axis = next(i for i in range(3) if a[i] != b[i])
            direction = _direction(w, [1.0 if i == axis else 0.0 for i in range(3)])
            vector = w.add(f"VECTOR('',{direction},{_real(size[axis])})")
            line = w.add(f"LINE('',{_point(w, [a[i] * size[i] for i in range(3)])},{vector})")
            edges[a, b] = w.add(f"EDGE_CURVE('',{vertex[a]},{vertex[b]},{line},.T.)")
        same = ".T." if (start, end) == (a, b) else ".F."
        return w.add(f"ORIENTED_EDGE('',*,*,{edges[a, b]},{same})")

    faces = []
    for axis in range(3):
        u, v = (axis + 1) % 3, (axis + 2) % 3  # e_u x e_v = e_axis
        for side in (0, 1):
            # Walk the face's corners counter-clockwise seen from outside.
            square = [(0, 0), (1, 0), (1, 1), (0, 1)]
            if side == 0:
                square.reverse()
            loop_corners = []
            for cu, cv in square:
                c = [0, 0, 0]
                c[axis], c[u], c[v] = side, cu, cv
                loop_corners.append(tuple(c))
            oriented = [edge(s, e) for s, e in zip(loop_corners, loop_corners[1:] + loop_corners[:1])]
            loop = w.add(f"EDGE_LOOP('',({','.join(oriented)}))")
            bound = w.add(f"FACE_OUTER_BOUND('',{loop},.T.)")
            normal = [0.0, 0.0, 0.0]
            normal[axis] = 1.0 if side else -1.0
            ref_dir = [0.0, 0.0, 0.0]
            ref_dir[u] = 1.0
            corner = [0.0, 0.0, 0.0]
            corner[axis] = side * size[axis]
            plane = w.add(f"PLANE('',{_placement(w, corner, normal, ref_dir)})")
            faces.append(w.add(f"ADVANCED_FACE('',({bound}),{plane},.T.)"))
    shell = w.add(f"CLOSED_SHELL('',({','.join(faces)}))")
    return w.add(f"MANIFOLD_SOLID_BREP({_str(name)},{shell})")


def _colour(w: _Writer, item: str, rgb) -> str:
    """A STYLED_ITEM giving ``item`` a surface colour; returns its reference."""
    r, g, b = (_real(c / 255.0) for c in rgb)
    colour = w.add(f"COLOUR_RGB('',{r},{g},{b})")
    fill_colour = w.add(f"FILL_AREA_STYLE_COLOUR('',{colour})")
    fill = w.add(f"FILL_AREA_STYLE('',({fill_colour}))")
    area = w.add(f"SURFACE_STYLE_FILL_AREA({fill})")
    side = w.add(f"SURFACE_SIDE_STYLE('',({area}))")
    usage = w.add(f"SURFACE_STYLE_USAGE(.BOTH.,{side})")
    style = w.add(f"PRESENTATION_STYLE_ASSIGNMENT(({usage}))")
    return w.add(f"STYLED_ITEM('colour',({style}),{item})")


def _placement(w: _Writer, location, axis=(0.0, 0.0, 1.0), ref_direction=(1.0, 0.0, 0.0)) -> str:
    return w.add(
        f"AXIS2_PLACEMENT_3D('',{_point(w, location)},{_direction(w, axis)},{_direction(w, ref_direction)})"
    )


def _point(w: _Writer, xyz) -> str:
    return w.add(f"CARTESIAN_POINT('',({','.join(_real(x) for x in xyz)}))")


def _direction(w: _Writer, xyz) -> str:
    return w.add(f"DIRECTION('',({','.join(_real(x) for x in xyz)}))")


def _real(x) -> str:
    """A STEP REAL: the mantissa always has a decimal point (``1.``, ``2.5E-07``)."""
    mantissa, _, exponent = repr(float(x)).upper().partition("E")
    if "." not in mantissa:
        mantissa += "."
    return mantissa + (f"E{exponent}" if exponent else "")


def _str(text: str) -> str:
    """A STEP string literal (ASCII only; quotes doubled, backslashes escaped)."""
    text = str(text)
    if not text.isascii():
        raise ValueError(f"STEP names must be ASCII here: {text!r}")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
