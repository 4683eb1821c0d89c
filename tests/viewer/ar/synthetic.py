"""Camera images made with known truth: markers seen from a known pose through a known
lens, with blur, noise and distortion, for the AR tests to find again."""

from __future__ import annotations

import cv2
import numpy as np

from viewer.ar.camera import Intrinsics


def look_at(position, target, up=(0, 0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """``(rvec, tvec)`` of a camera at ``position`` looking at ``target`` (OpenCV axes:
    x right, y down, z forward)."""
    position, target = np.asarray(position, float), np.asarray(target, float)
    z = target - position
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    r = np.array([x, y, z])
    return cv2.Rodrigues(r)[0], (-r @ position).reshape(3, 1)


def marker_tile(dictionary: str, marker_id: int, px: int = 120) -> tuple[np.ndarray, float]:
    """A printed marker: the black square and a white margin around it; and the share of
    the tile's side the black square takes."""
    d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, f"DICT_{dictionary}"))
    square = cv2.aruco.generateImageMarker(d, marker_id, px)
    margin = px // 4
    return cv2.copyMakeBorder(square, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255), \
        px / (px + 2 * margin)


def background(camera: Intrinsics, seed: int = 0) -> np.ndarray:
    """A workshop-grey image with smooth blotches (something for a detector to reject)."""
    w, h = camera.size
    rng = np.random.default_rng(seed)
    small = rng.uniform(60, 180, (h // 40 + 2, w // 40 + 2)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def render(camera: Intrinsics, rvec, tvec, markers: list[tuple[str, int, np.ndarray]], *, noise: float = 0.0,
           blur: float = 0.0, seed: int = 0, image: np.ndarray | None = None) -> np.ndarray:
    """A grey image of ``markers`` ((dictionary, id, 4 x 3 world corners of the black
    square)) seen from ``(rvec, tvec)`` through ``camera`` (its distortion too)."""
    tiles = []
    for dictionary, marker_id, corners in markers:
        tile, share = marker_tile(dictionary, marker_id)
        centre = corners.mean(axis=0)
        tiles.append((tile, centre + (corners - centre) / share))  # the white margin's corners
    return render_tiles(camera, rvec, tvec, tiles, noise=noise, blur=blur, seed=seed, image=image)


def chessboard(pattern: tuple[int, int], square: float, px: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A printed chessboard of ``pattern`` inner corners (columns, rows) and ``square``
    metres, with a white margin: its image, and the image's 4 corners in the board's frame
    (x along the columns, y along the rows, z = 0), as :func:`render_tiles` takes them."""
    cols, rows = pattern[0] + 1, pattern[1] + 1
    board = np.kron((np.indices((rows, cols)).sum(axis=0) % 2) * 255, np.ones((px, px))).astype(np.uint8)
    board = cv2.copyMakeBorder(board, px, px, px, px, cv2.BORDER_CONSTANT, value=255)
    # the first inner corner is the board's origin: the image starts two squares before it
    lo, hi = -2 * square, np.array([cols, rows]) * square
    corners = np.array([[lo, lo, 0], [hi[0], lo, 0], [hi[0], hi[1], 0], [lo, hi[1], 0]], float)
    return board, corners


def render_tiles(camera: Intrinsics, rvec, tvec, tiles: list[tuple[np.ndarray, np.ndarray]], *, noise: float = 0.0,
                 blur: float = 0.0, seed: int = 0, image: np.ndarray | None = None) -> np.ndarray:
    """A grey image of flat printed ``tiles`` ((image, its 4 corners in the world: top-left,
    top-right, bottom-right, bottom-left)) seen from ``(rvec, tvec)`` through ``camera``."""
    ideal = (background(camera, seed) if image is None else image).copy()
    w, h = camera.size
    for tile, outer in tiles:
        pixels, _ = cv2.projectPoints(outer.reshape(-1, 1, 3), rvec, tvec, camera.matrix, np.zeros(5))
        th, tw = tile.shape[0] - 1, tile.shape[1] - 1
        homography = cv2.getPerspectiveTransform(np.float32([[0, 0], [tw, 0], [tw, th], [0, th]]),
                                                 np.float32(pixels.reshape(4, 2)))
        warped = cv2.warpPerspective(tile, homography, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        mask = cv2.warpPerspective(np.full_like(tile, 255), homography, (w, h), flags=cv2.INTER_LINEAR)
        ideal = (ideal * (1 - mask / 255.0) + warped * (mask / 255.0)).astype(np.uint8)
    if np.any(camera.distortion):  # each pixel of the real lens shows where the ideal one would be
        grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), axis=-1).reshape(-1, 1, 2).astype(np.float32)
        ideal_at = cv2.undistortPoints(grid, camera.matrix, camera.distortion, P=camera.matrix).reshape(h, w, 2)
        ideal = cv2.remap(ideal, ideal_at[..., 0], ideal_at[..., 1], cv2.INTER_LINEAR, borderValue=0)
    if blur:
        ideal = cv2.GaussianBlur(ideal, (0, 0), blur)
    if noise:
        ideal = np.clip(ideal + np.random.default_rng(seed).normal(0, noise, ideal.shape), 0, 255).astype(np.uint8)
    return ideal
