"""Commands import only what they use: `--help` answers at once, `check` reads no 3D library."""

import subprocess
import sys

PUMP = "resources/machines/pump/pump.twin.yaml"


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {modules!r} if m in sys.modules))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return eval(result.stdout.strip().splitlines()[-1])


def test_help_imports_nothing_but_the_argument_parser():
    code = ("from viewer.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert _loaded_after(code, ("numpy", "pydantic", "trimesh", "pint", "matplotlib", "paho", "vtk")) == []


def test_check_reads_meshes_in_a_child_and_loads_no_3d_library_itself():
    code = f"from viewer.cli import main\nassert main(['check', {PUMP!r}]) == 0"
    assert _loaded_after(code, ("trimesh", "vtk", "vtkmodules", "pyvista", "PySide6")) == []
