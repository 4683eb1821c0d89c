"""The layers point one way (viewer -> overlays -> meshes) and Qt stays in viewer.qt."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 kept, 0 broken" in result.stdout


def test_everything_outside_viewer_qt_imports_without_qt():
    code = (
        "import sys, pkgutil, importlib\n"
        "import meshes, overlays, viewer\n"
        "for pkg in (meshes, overlays, viewer):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not m.name.startswith('viewer.qt') and m.name != 'viewer.live.amqtt_broker':\n"
        "            importlib.import_module(m.name)\n"
        "assert not any(n.startswith(('PySide6', 'pyvistaqt')) for n in sys.modules), 'Qt imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
