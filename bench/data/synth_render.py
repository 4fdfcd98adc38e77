"""Photos of synthetic scenes: per-class colour and texture, shading, and a global style.

The style (time of day, light tint, palette shift, contrast) is drawn from its own
random stream, so one label map can be rendered as many different photos: the
variation a style encoder (GauGAN's VAE) has to capture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.synth_scene import (
    BUILDING,
    CLASSES,
    CLOUD,
    MOUNTAIN,
    ROAD,
    ROCK,
    SKY,
    SNOW,
    TREE,
    WATER,
    Scene,
    fractal2d,
    noise2d,
)

# Daylight colour of each class (RGB 0..255), index = class id.
BASE = np.array([
    (105, 155, 225),  # sky (zenith; the horizon is lighter)
    (238, 238, 242),  # cloud
    (112, 104, 118),  # mountain
    (236, 240, 250),  # snow
    (84, 142, 58),  # grass
    (38, 88, 42),  # tree
    (42, 92, 140),  # water
    (214, 192, 140),  # sand
    (122, 116, 110),  # rock
    (78, 78, 84),  # road
    (168, 142, 118),  # building
], dtype=np.float32)
# Texture amplitude per class: fine grain, mid blotches, horizontal streaks, vertical streaks.
TEXTURE = np.array([
    (0.01, 0.03, 0.0, 0.0), (0.03, 0.10, 0.04, 0.0), (0.12, 0.18, 0.0, 0.06),
    (0.04, 0.06, 0.0, 0.04), (0.14, 0.16, 0.0, 0.18), (0.20, 0.25, 0.0, 0.0),
    (0.04, 0.06, 0.22, 0.0), (0.12, 0.08, 0.05, 0.0), (0.28, 0.22, 0.0, 0.0),
    (0.08, 0.05, 0.0, 0.0), (0.05, 0.06, 0.0, 0.0),
], dtype=np.float32)
assert len(BASE) == len(TEXTURE) == len(CLASSES)


@dataclass(frozen=True)
class Style:
    sun: float  # 0 night .. 0.3 dusk/golden .. 1 midday
    tint: tuple[float, float, float]  # light colour multiplier
    brightness: float
    contrast: float
    class_shift: np.ndarray  # (K, 3) per-class colour offsets (palette shift)
    hue_mix: np.ndarray  # (3, 3) colour matrix close to identity
    haze: float  # aerial perspective strength
    light_side: float  # -1 light from the left, +1 from the right
    saturation: float


def sample_style(rng: np.random.Generator) -> Style:
    sun = float(rng.choice([rng.uniform(0.05, 0.25), rng.uniform(0.25, 0.5), rng.uniform(0.5, 1.0)],
                           p=[0.2, 0.3, 0.5]))
    warm = np.clip(1 - sun, 0, 1)  # low sun: warm light
    tint = (1.0 + 0.25 * warm, 1.0 - 0.05 * warm, 1.0 - 0.35 * warm)
    a = rng.uniform(-0.25, 0.25)  # hue rotation-ish: mix channels a little
    mix = np.eye(3, dtype=np.float32) * (1 - abs(a)) + abs(a) * np.roll(np.eye(3), 1 if a > 0 else -1, 1)
    return Style(sun=sun, tint=tint, brightness=float(0.45 + 0.6 * sun ** 0.5),
                 contrast=float(rng.uniform(0.8, 1.2)),
                 class_shift=rng.normal(0, 16, (len(CLASSES), 3)).astype(np.float32),
                 hue_mix=mix.astype(np.float32), haze=float(rng.uniform(0.05, 0.4)),
                 light_side=float(rng.uniform(-1, 1)), saturation=float(rng.uniform(0.9, 1.5)))


def sky_colours(style: Style) -> tuple[np.ndarray, np.ndarray]:
    """(zenith, horizon) sky colours for the style's sun height."""
    day_top, day_low = np.array([70, 130, 225.0]), np.array([190, 215, 240.0])
    dusk_top, dusk_low = np.array([60, 60, 120.0]), np.array([250, 150, 90.0])
    s = np.clip((style.sun - 0.1) / 0.6, 0, 1)
    return s * day_top + (1 - s) * dusk_top, s * day_low + (1 - s) * dusk_low


def render(scene: Scene, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Scene + style -> (H, W, 3) uint8 photo. `rng` draws the texture noise."""
    ids = scene.ids
    H, W = ids.shape
    yy = ((np.arange(H) + 0.5) / H)[:, None]
    xx = ((np.arange(W) + 0.5) / W)[None, :]
    zenith, low = sky_colours(style)

    # Base colour per pixel, with the style's palette shift.
    base = BASE + style.class_shift
    base[SKY] = zenith
    img = base[ids]  # (H, W, 3)
    sky_t = np.clip(yy / max(scene.horizon, 1e-3), 0, 1)[..., None]  # 0 top .. 1 horizon
    sky = (1 - sky_t ** 1.5) * zenith + sky_t ** 1.5 * low
    img = np.where((ids == SKY)[..., None], sky, img)
    img = np.where((ids == WATER)[..., None], 0.55 * img + 0.45 * low, img)  # reflects the sky

    # Texture: four noise fields shared by all classes, weighted per class.
    fine = noise2d(rng, H, W, 48, 48) - 0.5
    mid = fractal2d(rng, H, W, 6, 6, octaves=2) - 0.5
    hstreak = noise2d(rng, H, W, 40, 3) - 0.5
    vstreak = noise2d(rng, H, W, 3, 60) - 0.5
    amp = TEXTURE[ids]  # (H, W, 4)
    tex = amp[..., 0] * fine + amp[..., 1] * mid + amp[..., 2] * hstreak + amp[..., 3] * vstreak
    img = img * (1 + tex)[..., None]

    # Shading: clouds darker underneath, trees darker low down, side light on land.
    img[ids == CLOUD] *= 0.85 + 0.15 * mid[ids == CLOUD, None] + 0.1
    land = np.isin(ids, (MOUNTAIN, SNOW, TREE, ROCK, BUILDING))
    side = 1 + 0.12 * style.light_side * (xx - 0.5) * 2
    img = np.where(land[..., None], img * side[..., None], img)

    # Windows on buildings (lit at night), lane marks on the road.
    if (ids == BUILDING).any():
        win = ((xx * W / max(W / 24, 3)) % 1 < 0.45) & ((yy * H / max(H / 20, 3)) % 1 < 0.5)
        m = (ids == BUILDING) & win
        lit = np.array([255, 220, 130.0]) if style.sun < 0.3 else base[BUILDING] * 0.5
        img[m] = lit
    if scene.road is not None and (ids == ROAD).any():
        y0 = scene.road[0]
        t = np.clip((yy - y0) / (1 - y0), 0, 1)
        centre = scene.extras["road_centre"]
        mark = (np.abs(xx - centre) < 0.006 + 0.01 * t) & ((t * 12) % 1 < 0.5) & (ids == ROAD)
        img[mark] = (230, 225, 200)

    # Aerial perspective: distant land fades toward the horizon colour.
    dist = np.exp(-np.abs(yy - scene.horizon) / 0.12)[..., None]
    far = np.isin(ids, (MOUNTAIN, SNOW, BUILDING, TREE))[..., None]
    img = np.where(far, img * (1 - style.haze * dist) + low * style.haze * dist, img)

    # Global style: light colour and level, palette mix, contrast, a little sensor grain.
    img = img * np.array(style.tint, dtype=np.float32) * style.brightness
    img = img @ style.hue_mix.T
    grey = img.mean(-1, keepdims=True)
    img = grey + (img - grey) * style.saturation  # colourfulness of the light / camera
    mean = img.mean()
    img = (img - mean) * style.contrast + mean
    img = img + (fine[..., None] * 6)
    return np.clip(img, 0, 255).astype(np.uint8)
