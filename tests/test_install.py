"""`pip install .` (not editable) gives a working twinview: code, sample machines, the demo."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The project built as a wheel and installed into a folder of its own."""
    folder = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = (folder / "dist").glob("twinview-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder / "site"),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return folder / "site"


def _run(installed, *args, cwd, **kwargs):
    # The installed copy, not this checkout: it comes first on the path, and the checkout is elsewhere.
    env = {**os.environ, "PYTHONPATH": str(installed), "TMPDIR": str(cwd)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, **kwargs)


def test_the_wheel_holds_every_module_and_the_sample_machines(installed):
    tracked = subprocess.run(["git", "ls-files", "viewer", "overlays", "meshes"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    missing = [f for f in tracked if f.endswith(".py") and not (installed / f).is_file()]
    assert missing == []
    # every file a sample machine needs: twins, meshes, scenarios, procedures and their pictures
    data = subprocess.run(["git", "ls-files", "resources/machines"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()
    data = [f for f in data if not f.endswith(".py")]
    assert {"resources/machines/pump/pump.twin.yaml", "resources/machines/pump/procedures/seal_replacement.yaml",
            "resources/machines/pump/procedures/images/runout.png"} <= set(data)
    assert [f for f in data if not (installed / "viewer" / f).is_file()] == []


def test_the_installed_demo_runs_and_leaves_nothing_behind(installed, tmp_path, qapp):
    where = _run(installed, "-c", "import viewer.samples as s; print(s.RESOURCES)", cwd=tmp_path)
    assert where.stdout.strip().startswith(str(installed)), where.stderr
    out = tmp_path / "demo.png"
    result = _run(installed, "-m", "viewer.cli", "demo", "--screenshot", str(out), "--seconds", "4",
                  cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    image = np.asarray(Image.open(out))[..., :3].astype(int)
    # The window fits its screen: most of a small one, or its full size on a big one.
    screen = qapp.primaryScreen().availableGeometry()
    assert image.shape[1] >= min(1000, 0.8 * screen.width())
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == ""  # the broker (its files live under TMPDIR) has stopped
