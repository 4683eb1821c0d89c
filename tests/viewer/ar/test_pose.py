"""AR registration: the camera's pose from the twin's markers and from picked points, on
images made with a known pose, lens, blur and noise."""

import cv2
import numpy as np
import pytest

from tests.viewer.ar.synthetic import look_at, render
from viewer.ar.camera import Intrinsics
from viewer.ar.pose import MarkerLocator, PoseError, solve_points
from viewer.samples import SAMPLES
from viewer.twin.loader import TwinError, load_twin
from viewer.twin.markers import marker_corners

# A 720p camera with a real lens's barrel distortion.
CAMERA = Intrinsics(np.array([[900.0, 0, 652], [0, 905.0, 356], [0, 0, 1]]), (1280, 720),
                    np.array([-0.12, 0.05, 0.0008, -0.0005, 0.0]))
# Where a technician stands with a tablet: in front of the pump skid, 1.7-2.1 m away, the
# camera from knee to head height, where it sees three or four of the skid's markers.
VIEWS = [((0.0, -1.9, 0.9), (0.05, 0, 0.2)), ((0.3, -2.0, 1.2), (0.05, 0, 0.3)), ((0.0, -1.7, 1.4), (0, 0, 0.3)),
         ((-0.3, -2.1, 0.7), (0.05, 0, 0.3))]


@pytest.fixture(scope="module")
def pump():
    return load_twin(SAMPLES["pump"])


def _frame(twin, rvec, tvec, only=None, seed=0):
    worlds = twin.assembly.world_transforms()
    markers = [(m.dictionary, m.id, marker_corners(m, worlds)) for m in twin.spec.markers
               if only is None or m.id in only]
    return render(CAMERA, rvec, tvec, markers, noise=3.0, blur=0.8, seed=seed)


def _errors(pose, rvec, tvec):
    """Position error (m) and rotation error (degrees) against the truth."""
    truth = np.linalg.inv(np.vstack([np.c_[cv2.Rodrigues(rvec)[0], tvec], [0, 0, 0, 1]]))
    found = np.linalg.inv(pose.world_to_camera)
    turn = truth[:3, :3].T @ found[:3, :3]
    angle = np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
    return float(np.linalg.norm(truth[:3, 3] - found[:3, 3])), float(angle)


def _overlay_error(twin, pose, rvec, tvec) -> float:
    """The most the twin's points in the picture land off where they should, in pixels."""
    worlds = twin.assembly.world_transforms()
    points = np.concatenate([p.vertices[::50] @ worlds[p.name][:3, :3].T + worlds[p.name][:3, 3]
                             for p in twin.assembly if p.has_geometry])
    truth, _ = cv2.projectPoints(points.reshape(-1, 1, 3), rvec, tvec, CAMERA.matrix, CAMERA.distortion)
    truth = truth.reshape(-1, 2)
    shown = np.all((truth > 0) & (truth < CAMERA.size), axis=1)
    return float(np.max(np.linalg.norm(pose.project(points[shown], CAMERA) - truth[shown], axis=1)))


@pytest.mark.parametrize("view", VIEWS, ids=["front", "right-high", "above", "left-low"])
def test_the_camera_pose_is_found_from_the_markers_within_a_centimetre_and_a_degree(pump, view):
    rvec, tvec = look_at(*view)
    locator = MarkerLocator(pump.spec.markers, pump.assembly.world_transforms())
    pose = locator.locate(_frame(pump, rvec, tvec), CAMERA)
    assert pose is not None and len(pose.markers) >= 3  # one may be at the edge of the picture
    moved, turned = _errors(pose, rvec, tvec)
    assert moved < 0.01 and turned < 1.0
    assert pose.error_px < 1.0 and pose.trusted
    assert _overlay_error(pump, pose, rvec, tvec) < 2.0


def test_one_marker_is_enough_for_a_pose(pump):
    rvec, tvec = look_at(*VIEWS[0])
    locator = MarkerLocator(pump.spec.markers, pump.assembly.world_transforms())
    pose = locator.locate(_frame(pump, rvec, tvec, only={1}), CAMERA)
    assert pose.markers == (("4X4_50", 1),)
    moved, turned = _errors(pose, rvec, tvec)
    assert moved < 0.05 and turned < 3.0  # one 7 cm square, 2 m away: less sure than four


def test_without_markers_there_is_no_pose(pump):
    rvec, tvec = look_at(*VIEWS[0])
    locator = MarkerLocator(pump.spec.markers, pump.assembly.world_transforms())
    assert locator.locate(_frame(pump, rvec, tvec, only=set()), CAMERA) is None


def test_markers_that_are_not_the_twin_s_are_ignored(pump):
    rvec, tvec = look_at(*VIEWS[0])
    worlds = pump.assembly.world_transforms()
    corners = marker_corners(pump.spec.markers[0], worlds)
    stranger = render(CAMERA, rvec, tvec, [("4X4_50", 17, corners)], noise=3.0, blur=0.8)  # id 17 is not declared
    assert MarkerLocator(pump.spec.markers, worlds).locate(stranger, CAMERA) is None


def test_the_pose_from_picked_points_is_as_good_as_the_picking(pump):
    rvec, tvec = look_at(*VIEWS[1])
    lo, hi = pump.assembly.bounds()
    world = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])[:6]
    truth, _ = cv2.projectPoints(world.reshape(-1, 1, 3), rvec, tvec, CAMERA.matrix, CAMERA.distortion)
    picked = truth.reshape(-1, 2) + np.random.default_rng(1).normal(0, 0.7, (len(world), 2))  # a careful click
    pose = solve_points(world, picked, CAMERA)
    moved, turned = _errors(pose, rvec, tvec)
    assert moved < 0.01 and turned < 1.0 and pose.error_px < 1.5


def test_too_few_or_lined_up_points_are_refused_with_the_reason():
    with pytest.raises(PoseError, match="at least 4 points"):
        solve_points(np.zeros((3, 3)), np.zeros((3, 2)), CAMERA)
    line = np.c_[np.linspace(0, 1, 5), np.zeros(5), np.zeros(5)]
    with pytest.raises(PoseError, match="on one line"):
        solve_points(line, np.random.default_rng(0).uniform(0, 500, (5, 2)), CAMERA)


def test_marker_mistakes_are_load_errors_at_their_lines(tmp_path):
    import shutil

    folder = tmp_path / "pump"
    shutil.copytree(SAMPLES["pump"].parent, folder)
    twin = folder / "pump.twin.yaml"
    text = twin.read_text().replace("{id: 1, size: 0.07, parent: base_frame", "{id: 0, size: 0.07, parent: base_frame") \
        .replace("{id: 3, size: 0.07, parent: base_frame", "{id: 63, size: 0.07, parent: base_frme")
    twin.write_text(text)
    with pytest.raises(TwinError) as caught:
        load_twin(twin)
    lines = text.splitlines()
    at = {n + 1 for n, line in enumerate(lines) if "size: 0.07" in line}
    problems = [str(p) for p in caught.value.problems]
    assert any(p.split(":")[1].isdigit() and int(p.split(":")[1]) in at and "already item 1" in p for p in problems)
    assert any("unknown part 'base_frme' (did you mean 'base_frame'?)" in p for p in problems)
    assert any("4X4_50 has ids 0 to 49, not 63" in p for p in problems)
