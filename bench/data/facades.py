"""pix2pix facades: one JPEG per pair, photo on the left half, colour label map on the right.

The label colours are JPEG-compressed, so class ids are recovered by snapping every
pixel to the nearest of the 12 measured palette colours (class id = i, CMP names in
bench.data.names.FACADES). An earlier jet(i/11) palette was wrong: two classes snapped
onto one entry and it agreed with the measured palette on about 31% of pixels.

Ambiguous pixel (reported, not dropped): with c1, c2 the nearest and second-nearest
palette colours, h = |c1 - c2| / 2 and b = the pixel's distance to the plane halfway
between c1 and c2 (b = (d2^2 - d1^2) / (2 |c1 - c2|)), a pixel is ambiguous when
    b < BOUNDARY_FRACTION * h     (it sits in the middle band between two colours), or
    d1 > FAR_DISTANCE             (no palette colour is near: blended or drifted).
`bench data check` also reports the share with d1 > README_FAR (40 units), the figure
../shared/datasets/facades/README.md gives ("about 22%"), so the two can be compared.
"""

from __future__ import annotations

import numpy as np

from bench.data.pairs import open_image

# Measured centres (../shared/datasets/facades/README.md): the median colour of flat 5x5
# patches (local std < 4) over all 400 training label maps. Close to jet at about i/12
# for i = 1..12, with JPEG drift: use these values, not a formula.
PALETTE = np.array([
    (0, 0, 222),      # 0 background
    (0, 48, 255),     # 1 facade
    (0, 128, 255),    # 2 window
    (0, 208, 255),    # 3 door
    (32, 255, 224),   # 4 cornice
    (112, 255, 143),  # 5 sill
    (191, 255, 64),   # 6 balcony
    (255, 240, 1),    # 7 blind
    (255, 160, 0),    # 8 deco
    (255, 80, 0),     # 9 molding
    (253, 0, 0),      # 10 pillar
    (175, 0, 0),      # 11 shop
], dtype=np.int64)
BOUNDARY_FRACTION = 0.25
FAR_DISTANCE = 64.0  # RGB units (0..255 per channel)
README_FAR = 40.0  # the README's "more than 40 units from every centre" (reported only)


def snap_to_palette(rgb: np.ndarray, palette: np.ndarray = PALETTE) -> tuple[np.ndarray, np.ndarray]:
    """(h, w, 3) uint8 -> (ids (h, w) int64, ambiguous (h, w) bool)."""
    ids, ambiguous, _ = snap_details(rgb, palette)
    return ids, ambiguous


def snap_details(rgb: np.ndarray, palette: np.ndarray = PALETTE
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h, w, 3) uint8 -> (ids, ambiguous, d1 = distance to the nearest colour (h, w) float).

    Squared distances are exact integers, so ties go to the lower class id (argmin)."""
    pal = np.asarray(palette, dtype=np.int32)
    x = rgb.reshape(-1, 1, 3).astype(np.int32)
    d2 = ((x - pal[None]) ** 2).sum(-1)  # (P, K) squared distances
    rows = np.arange(len(d2))
    i1 = d2.argmin(1)
    s1 = d2[rows, i1].astype(np.float64)
    d2[rows, i1] = np.iinfo(np.int32).max
    i2 = d2.argmin(1)
    s2 = d2[rows, i2].astype(np.float64)
    sep = np.sqrt(((pal[i1] - pal[i2]) ** 2).sum(-1))  # |c1 - c2|
    b = (s2 - s1) / (2 * sep)  # distance to the plane halfway between c1 and c2
    ambiguous = (b < BOUNDARY_FRACTION * sep / 2) | (np.sqrt(s1) > FAR_DISTANCE)
    h, w = rgb.shape[:2]
    return i1.reshape(h, w).astype(np.int64), ambiguous.reshape(h, w), np.sqrt(s1).reshape(h, w)


def read_facade(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pix2pix facades file -> (photo (h, w, 3) uint8, ids (h, w), ambiguous (h, w))."""
    photo, ids, ambiguous, _ = read_facade_details(path)
    return photo, ids, ambiguous


def read_facade_details(path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """read_facade plus the (h, w) bool map of label pixels more than README_FAR from
    every palette colour."""
    ab = np.asarray(open_image(path).convert("RGB"))
    w = ab.shape[1] // 2
    ids, ambiguous, d1 = snap_details(ab[:, w:2 * w])
    return ab[:, :w], ids, ambiguous, d1 > README_FAR
