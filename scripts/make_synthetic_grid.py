"""Sample grid of the synthetic data set for the README -> reports/synthetic_sample.png.

Rows 1-2: label maps (coloured) above their photos for 8 items. Row 3: the label map of
column 1 rendered with 8 different styles (palette, light, time of day).

    .venv/bin/python scripts/make_synthetic_grid.py [--size 96] [--seed 0] [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.data.synthetic import PALETTE, generate

COLUMNS = 8


def colour(ids: np.ndarray) -> np.ndarray:
    return np.asarray(PALETTE, dtype=np.uint8)[ids]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("reports/synthetic_sample.png"))
    args = ap.parse_args()
    s, gap = args.size, 2

    items = [generate(args.seed, i, s) for i in range(COLUMNS)]
    styled = [generate(args.seed, 0, s, style_index=k) for k in range(COLUMNS)]
    rows = [[colour(ids) for _, ids, _ in items], [p for p, _, _ in items],
            [p for p, _, _ in styled]]
    label_h = 14
    H = 3 * (s + gap) + 2 * label_h
    W = COLUMNS * (s + gap)
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.text((2, 1), "label maps and their photos", fill=(0, 0, 0))
    y = label_h
    for r, row in enumerate(rows):
        if r == 2:
            draw.text((2, y + 1), "the label map of column 1, rendered in 8 styles", fill=(0, 0, 0))
            y += label_h
        for c, tile in enumerate(row):
            canvas.paste(Image.fromarray(tile), (c * (s + gap), y))
        y += s + gap
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.png")
    canvas.quantize(256, dither=Image.Dither.NONE).save(tmp, optimize=True)
    tmp.replace(args.out)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
