"""Imports run in a child process: a bomb, a crash, a hang or a cancel costs only the child."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile

import numpy as np
import psutil
import pytest

from meshes import load_assembly
from meshes.isolated import ImportCancelled, ImportLimits, MeshImportError, import_assembly
from tests.conftest import as_gltf, make_test_machine
from tests.meshes.step_writer import write_step_boxes


@pytest.fixture
def rig(tmp_path):
    """The test machine as a file the child imports (see :func:`as_gltf`)."""
    return as_gltf(make_test_machine(tmp_path))


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
        assert (a.normals is None) == (b.normals is None)


def test_a_step_files_normals_come_through_the_importer(tmp_path, no_cache):
    """OpenCASCADE's normals (from the exact surfaces) reach the viewer: none are computed."""
    step = write_step_box(tmp_path / "box.step")
    isolated, direct = import_assembly(step), load_assembly(step)
    [part] = [p for p in isolated if p.has_geometry]
    assert part.normals is not None and part.normals.shape == part.vertices.shape
    np.testing.assert_allclose(np.linalg.norm(part.normals, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(part.normals, direct[part.name].normals)


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
        archive.writestr("3D/3dmodel.model", b" " * (80 << 20))  # 80 MiB of blanks, 80 kiB packed
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(MeshImportError, match=r"bomb.3mf: the archive inflates to 80 MiB, more than the 64 MiB"):
        import_assembly(bomb, limits=ImportLimits(memory=256 << 20, seconds=60))


def test_an_import_over_its_memory_limit_fails_with_a_clear_message(tmp_path, no_cache):
    triangles = np.random.default_rng(0).random((400_000, 3, 3), dtype=np.float32)
    stl = np.zeros(len(triangles), dtype=[("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    stl["corners"] = triangles
    path = tmp_path / "big.stl"  # 20 MB: a few hundred MB once trimesh has merged its vertices
    path.write_bytes(bytes(80) + np.uint32(len(stl)).tobytes() + stl.tobytes())
    with pytest.raises(MeshImportError, match=r"big.stl: needs more memory than the import may use \(0.4 GiB"):
        import_assembly(path, limits=ImportLimits(memory=450 << 20, seconds=60))


def _crash_the_importer_when_it_starts(stop: threading.Event) -> None:
    """A real native crash of the real importer, as OpenCASCADE might have on a damaged file."""
    while not stop.wait(0.01):
        for child in psutil.Process().children():
            try:
                if "meshes.import_worker" in child.cmdline():  # not the X server pytest-xvfb started
                    child.send_signal(signal.SIGSEGV)
                    return
            except psutil.Error:
                pass  # a process that ended meanwhile


def test_an_importer_that_crashes_gives_a_clear_error(rig, no_cache):
    stop = threading.Event()
    crasher = threading.Thread(target=_crash_the_importer_when_it_starts, args=(stop,))
    crasher.start()
    try:
        with pytest.raises(MeshImportError, match=r"rig.gltf: the importer crashed \(SIGSEGV\) reading this file"):
            import_assembly(rig)
    finally:
        stop.set()
        crasher.join()


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
