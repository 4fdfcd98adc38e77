"""Procedural outdoor scenes: the label map (class ids + instance ids) of one synthetic item.

Every shape is defined in coordinates relative to the image (0..1), so the same seed
gives the same scene at any size. Layout, back to front: sky, clouds, mountain ranges
(ridge = smoothed 1-D noise) with snow caps, buildings and a tree line on the horizon,
a lake or sea band below the horizon with a wavy shore and a sand beach, grass, a
perspective road, rocks, and trees (nearer ones bigger and drawn later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASSES = ("sky", "cloud", "mountain", "snow", "grass", "tree", "water", "sand", "rock", "road",
           "building")
SKY, CLOUD, MOUNTAIN, SNOW, GRASS, TREE, WATER, SAND, ROCK, ROAD, BUILDING = range(len(CLASSES))


def smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3 - 2 * t)


def noise1d(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """(n,) smooth value noise in [0, 1] with `cells` random knots across the width."""
    knots = rng.random(cells + 1)
    x = (np.arange(n) + 0.5) / n * cells
    i = np.minimum(x.astype(np.int64), cells - 1)
    t = smoothstep(x - i)
    return knots[i] * (1 - t) + knots[i + 1] * t


def noise2d(rng: np.random.Generator, h: int, w: int, cy: int, cx: int) -> np.ndarray:
    """(h, w) smooth value noise in [0, 1] on a (cy, cx) grid of random knots."""
    g = rng.random((cy + 1, cx + 1))
    y = (np.arange(h) + 0.5) / h * cy
    x = (np.arange(w) + 0.5) / w * cx
    iy = np.minimum(y.astype(np.int64), cy - 1)
    ix = np.minimum(x.astype(np.int64), cx - 1)
    ty = smoothstep(y - iy)[:, None]
    tx = smoothstep(x - ix)[None, :]
    top = g[iy][:, ix] * (1 - tx) + g[iy][:, ix + 1] * tx
    bot = g[iy + 1][:, ix] * (1 - tx) + g[iy + 1][:, ix + 1] * tx
    return top * (1 - ty) + bot * ty


def fractal1d(rng, n, cells, octaves=3):
    out = sum(0.5 ** o * noise1d(rng, n, cells * 2 ** o) for o in range(octaves))
    return out / sum(0.5 ** o for o in range(octaves))


def fractal2d(rng, h, w, cy, cx, octaves=3):
    out = sum(0.5 ** o * noise2d(rng, h, w, cy * 2 ** o, cx * 2 ** o) for o in range(octaves))
    return out / sum(0.5 ** o for o in range(octaves))


@dataclass
class Scene:
    ids: np.ndarray  # (H, W) int64 class ids
    inst: np.ndarray  # (H, W) int64 instance ids (stuff: class id * 1000; things: + k)
    horizon: float  # relative y of the horizon
    road: tuple | None = None  # (y_start, x_vanish, x_bottom, half_width) when a road exists
    extras: dict = field(default_factory=dict)


def make_scene(rng: np.random.Generator, H: int, W: int) -> Scene:
    yy = np.broadcast_to(((np.arange(H) + 0.5) / H)[:, None], (H, W))  # relative rows
    xx = np.broadcast_to(((np.arange(W) + 0.5) / W)[None, :], (H, W))  # relative columns
    ids = np.full((H, W), SKY, dtype=np.int64)
    things = np.zeros((H, W), dtype=np.int64)  # instance number of thing pixels, 0 = stuff
    horizon = rng.uniform(0.38, 0.62)
    scene = Scene(ids, things, horizon)

    # Clouds: a horizontally stretched noise field thresholded in the sky.
    if rng.random() < 0.75:
        c = fractal2d(rng, H, W, 3, 6, octaves=2)
        ids[(c > rng.uniform(0.55, 0.68)) & (yy < horizon - 0.05)] = CLOUD

    # Mountain ranges: far (higher, hazier) then near; ridge from smoothed 1-D noise.
    if rng.random() < 0.8:
        for near in range(rng.integers(1, 3)):
            amp = rng.uniform(0.12, 0.35) * (0.7 if near else 1.0)
            n = fractal1d(rng, W, int(rng.integers(2, 5)), octaves=3)
            ridge = horizon - amp * (0.25 + 0.75 * n)[None, :]
            ids[(yy > ridge) & (yy < horizon)] = MOUNTAIN
            if rng.random() < 0.5:  # snow caps above a wavy snow line
                line = horizon - amp * (0.62 + 0.1 * fractal1d(rng, W, 6, 2))[None, :]
                ids[(yy > ridge) & (yy < line)] = SNOW

    # Buildings standing on the horizon.
    if rng.random() < 0.35:
        for _ in range(rng.integers(1, 5)):
            x0, bw = rng.uniform(0.0, 0.9), rng.uniform(0.06, 0.2)
            top = horizon - rng.uniform(0.08, 0.3)
            m = (xx > x0) & (xx < x0 + bw) & (yy > top) & (yy < horizon + 0.02)
            ids[m] = BUILDING
            things[m] = things.max() + 1

    # A tree line along the horizon.
    if rng.random() < 0.4:
        top = horizon - rng.uniform(0.02, 0.08) * (0.3 + fractal1d(rng, W, 12, 2))[None, :]
        ids[(yy > top) & (yy < horizon + 0.01)] = TREE

    # Ground: grass, then water below the horizon with a wavy shore and a beach.
    ids[yy >= horizon] = GRASS
    if rng.random() < 0.6:
        depth = rng.uniform(0.08, 0.35)
        shore = horizon + depth * (0.4 + 0.6 * fractal1d(rng, W, int(rng.integers(2, 5)), 2))[None, :]
        ids[(yy >= horizon) & (yy < shore)] = WATER
        if rng.random() < 0.6:
            beach = shore + rng.uniform(0.02, 0.08) * (0.5 + noise1d(rng, W, 5))[None, :]
            ids[(yy >= shore) & (yy < beach)] = SAND
        ground_top = float(shore.max())
    else:
        ground_top = horizon

    # A perspective road from a vanishing point to the bottom edge, gently curved.
    if rng.random() < 0.35 and ground_top < 0.85:
        y0, xv, xb = ground_top, rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.8)
        half = rng.uniform(0.08, 0.2)
        t = np.clip((yy - y0) / (1 - y0), 0, 1)
        centre = xv + (xb - xv) * t + 0.05 * np.sin(3 * t + rng.uniform(0, 6))
        ids[(yy > y0) & (np.abs(xx - centre) < half * t + 0.004)] = ROAD
        scene.road = (y0, xv, xb, half)
        scene.extras["road_centre"] = centre

    # Rocks: noisy ellipses on the ground.
    if rng.random() < 0.5 and ground_top < 0.85:
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(ground_top + 0.05, 0.95), rng.uniform(0.05, 0.95)
            r = 0.03 + 0.1 * (cy - horizon)
            d = ((xx - cx) / (1.5 * r)) ** 2 + ((yy - cy) / r) ** 2
            ids[(d < 1) & (yy >= ground_top)] = ROCK

    # Trees: canopies (noisy ellipses) sitting on the ground, far to near.
    if rng.random() < 0.7:
        bases = np.sort(rng.uniform(min(ground_top + 0.03, 1.0), 1.05, rng.integers(1, 7)))
        wobble = noise2d(rng, H, W, 6, 6) - 0.5
        for base in bases:
            cx = rng.uniform(0.0, 1.0)
            r = 0.04 + 0.18 * (base - horizon)  # nearer trees are bigger
            cy = base - r * 1.3
            d = ((xx - cx) / r) ** 2 + ((yy - cy) / (1.4 * r)) ** 2 + 0.6 * wobble
            m = d < 1
            ids[m] = TREE
            things[m] = things.max() + 1

    scene.inst = np.where(things > 0, ids * 1000 + things, ids * 1000)
    return scene
