"""Imports run in a child process: a bomb, a crash, a hang or a cancel costs only the child."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import psutil
import pytest

from meshes import load_assembly
from meshes.isolated import ImportCancelled, ImportLimits, MeshImportError, import_assembly
from tests.conftest import make_test_machine
from tests.meshes.step_writer import write_step_boxes


@pytest.fixture
def rig(tmp_path):
    return make_test_machine(tmp_path)


@pytest.fixture
def no_cache(monkeypatch):
    """Every import runs its child (a cached file would not)."""
    monkeypatch.setenv("TWINVIEW_CACHE", "off")


def write_step_box(path):
    return write_step_boxes(path, [("block", (0, 0, 0), (10, 20, 30))])


def test_an_isolated_import_gives_the_parts_an_import_in_process_gives(rig):
    isolated, direct = import_assembly(rig, name="rig"), load_assembly(rig, name="rig")
    assert list(isolated.parts) == list(direct.parts)
    assert isolated.units == direct.units
    for a, b in zip(isolated, direct):
        assert (a.parent, a.source) == (b.parent, b.source)
        np.testing.assert_array_equal(a.local, b.local)
        for kind in ("vertices", "faces", "colors"):
            got, want = getattr(a, kind), getattr(b, kind)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_a_file_imported_before_is_read_from_the_cache_without_a_child(rig, monkeypatch):
    first = import_assembly(rig, name="rig")

    def no_child(*args, **kwargs):
        raise AssertionError("a child was started for a cached file")

    monkeypatch.setattr(subprocess, "Popen", no_child)
    again = import_assembly(rig, name="rig")
    assert isinstance(again["arm"].vertices, np.memmap)  # mapped, not copied
    np.testing.assert_array_equal(again["arm"].vertices, first["arm"].vertices)


def test_without_a_cache_the_arrays_are_handed_over_and_nothing_stays_on_disk(rig, monkeypatch, tmp_path):
    monkeypatch.setenv("TWINVIEW_CACHE", "off")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # take TMPDIR into account
    assembly = import_assembly(rig, name="rig")
    assert assembly["tip"].faces.shape == (12, 3)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    bomb = tmp_path / "bomb.3mf"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("3D/3dmodel.model", b" " * (300 << 20))  # 300 MiB of blanks, 0.3 MiB packed
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(MeshImportError, match=r"bomb.3mf: the archive inflates to 300 MiB, more than the 256 MiB"):
        import_assembly(bomb, limits=ImportLimits(memory=1 << 30, seconds=60))


def test_an_import_over_its_memory_limit_fails_with_a_clear_message(rig, no_cache):
    with pytest.raises(MeshImportError, match=r"rig.glb: needs more memory than the import may use \(0.3 GiB"):
        import_assembly(rig, limits=ImportLimits(memory=300 << 20, seconds=60))


def test_an_importer_that_crashes_gives_a_clear_error(rig, no_cache):
    def crash_the_child(stage):  # a real native crash of the real importer, as OpenCASCADE might
        for child in psutil.Process().children():
            child.send_signal(signal.SIGSEGV)

    with pytest.raises(MeshImportError, match=r"rig.glb: the importer crashed \(SIGSEGV\) reading this file"):
        import_assembly(rig, progress=crash_the_child)


def test_an_import_that_takes_too_long_is_stopped(tmp_path, no_cache):
    step = write_step_box(tmp_path / "box.step")  # OpenCASCADE alone takes longer than this
    with pytest.raises(MeshImportError, match=r"box.step: the import took longer than 0.2 s and was stopped"):
        import_assembly(step, limits=ImportLimits(memory=8 << 30, seconds=0.2))


def test_a_cancelled_import_stops_at_once(rig, no_cache):
    started = time.monotonic()
    with pytest.raises(ImportCancelled):
        import_assembly(rig, cancelled=lambda: True)
    assert time.monotonic() - started < 5


def test_the_importer_ignores_a_meshes_folder_where_the_viewer_was_started(rig, tmp_path, monkeypatch, no_cache):
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "__init__.py").write_text("raise SystemExit('the wrong meshes package')\n")
    monkeypatch.chdir(tmp_path)
    assert "arm" in import_assembly(rig, name="rig")


def test_the_importer_dies_with_a_viewer_killed_mid_import(tmp_path):
    step = write_step_box(tmp_path / "box.step")
    script = textwrap.dedent(f"""
        import os
        os.environ["TWINVIEW_CACHE"] = "off"
        from meshes.isolated import import_assembly
        import_assembly({str(step)!r}, progress=lambda stage: print("importing", flush=True))
    """)
    viewer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert viewer.stdout.readline().strip() == "importing"
        [importer] = psutil.Process(viewer.pid).children()
        os.kill(viewer.pid, signal.SIGKILL)
        viewer.wait()
        assert importer.wait(timeout=10) is not None or not importer.is_running()
    finally:
        viewer.kill()
        viewer.wait()
        viewer.stdout.close()
