"""Label maps in and out of the painter, every input checked before it reaches a model.

On the wire a label map is base64 of its class ids, one byte per pixel, row by row
(every data set here has at most 256 label channels). Uploaded label images are either
ids (grayscale or palette-mode PNG, pixel value = class id; what the painter's own
download writes) or colours (RGB, each pixel snapped to the nearest palette colour).
A bad input raises PaintError with the HTTP status the server answers with.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

import numpy as np
from PIL import Image

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # checked against Content-Length before any decoding
MAX_PHOTO_PIXELS = 40_000_000  # a reference photo's header size, checked before decoding
IMAGE_FORMATS = ("PNG", "BMP", "GIF", "TIFF", "WEBP", "JPEG")
ID_MODES = ("1", "L", "P", "I", "I;16")  # pixel values are class ids
# A colour image whose pixels are mostly this far (RGB units) from every palette colour
# is a photo, not a label map: snapping it would paint noise.
FAR_COLOUR = 64.0
MAX_FAR_SHARE = 0.2


class PaintError(Exception):
    """Bad input from the page: answered as {"error": message} with this HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def ids_to_b64(ids: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(ids, dtype=np.uint8).tobytes()).decode("ascii")


def ids_from_b64(text: str, size: tuple[int, int], num_ids: int) -> np.ndarray:
    """base64 of h*w bytes -> (h, w) uint8 ids, each below num_ids."""
    h, w = size
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PaintError(422, "labels: not base64 (one byte per pixel, row by row)") from None
    if len(raw) != h * w:
        raise PaintError(422, f"labels: {len(raw)} pixels, this model paints {w}x{h} = "
                              f"{h * w} pixels")
    ids = np.frombuffer(raw, dtype=np.uint8).reshape(h, w)
    check_ids(ids, num_ids)
    return ids


def check_ids(ids: np.ndarray, num_ids: int) -> None:
    top = int(ids.max()) if ids.size else 0
    if top >= num_ids:
        bad = int((ids >= num_ids).sum())
        raise PaintError(422, f"label ids must be 0..{num_ids - 1}; found id {top} "
                              f"({bad} pixel{'s' if bad != 1 else ''} out of range)")


def check_upload_size(content_length: str | None, limit: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse a too-large upload from its header alone, before reading it."""
    if content_length is None:
        return
    if not content_length.isdigit():
        raise PaintError(400, "Content-Length: not a number")
    if int(content_length) > limit:
        raise PaintError(413, f"upload of {int(content_length) / 2**20:.1f} MB: the limit is "
                              f"{limit / 2**20:.0f} MB")


def open_upload(data: bytes, what: str) -> Image.Image:
    """Bytes -> an opened (not yet decoded) PIL image of a known format."""
    if not data:
        raise PaintError(422, f"{what}: empty upload")
    try:
        img = Image.open(io.BytesIO(data))
    except Exception:  # noqa: BLE001  (PIL raises several types for non-images)
        raise PaintError(415, f"{what}: not an image (use PNG, BMP, GIF, TIFF, WEBP or JPEG)"
                         ) from None
    if img.format not in IMAGE_FORMATS:
        raise PaintError(415, f"{what}: image format {img.format}; use one of "
                              f"{', '.join(IMAGE_FORMATS)}")
    return img


def _load(img: Image.Image, what: str) -> None:
    """Decode the pixels; a truncated or corrupt file is a 422, not a server error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except Exception as e:  # noqa: BLE001
        raise PaintError(422, f"{what}: the image cannot be decoded ({type(e).__name__})"
                         ) from None


def snap_colours(rgb: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, float]:
    """(h, w, 3) uint8 -> (ids (h, w) uint8 of the nearest palette colour, share of pixels
    further than FAR_COLOUR from every colour). Done per distinct colour: label images
    have few, so this stays fast at any size."""
    colours, inverse = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    d2 = ((colours[:, None, :].astype(np.int64) - palette[None].astype(np.int64)) ** 2).sum(-1)
    nearest = d2.argmin(1)
    far = np.sqrt(d2.min(1)) > FAR_COLOUR
    inverse = inverse.reshape(-1)
    return nearest[inverse].reshape(rgb.shape[:2]).astype(np.uint8), float(far[inverse].mean())


def decode_label_image(data: bytes, size: tuple[int, int], palette: np.ndarray) -> np.ndarray:
    """An uploaded label image -> (h, w) uint8 ids (ids or colours, see the module doc)."""
    h, w = size
    img = open_upload(data, "label image")
    if img.size != (w, h):  # from the header: a wrong size is refused before decoding
        raise PaintError(422, f"label image is {img.size[0]}x{img.size[1]}; this model paints "
                              f"{w}x{h} label maps")
    _load(img, "label image")
    if img.mode in ID_MODES:
        ids = np.asarray(img, dtype=np.int64)
        check_ids(ids, len(palette))
        return ids.astype(np.uint8)
    ids, far = snap_colours(np.asarray(img.convert("RGB")), palette)
    if far > MAX_FAR_SHARE:
        raise PaintError(422, f"label image: {far:.0%} of its pixels are far from every class "
                              "colour; it looks like a photo, not a label map")
    return ids


def decode_photo(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """An uploaded reference photo (any size) -> (h, w, 3) uint8 RGB at the model's size."""
    h, w = size
    img = open_upload(data, "photo")
    if img.size[0] * img.size[1] > MAX_PHOTO_PIXELS:
        raise PaintError(413, f"photo: {img.size[0]}x{img.size[1]} pixels; the limit is "
                              f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels")
    _load(img, "photo")
    return np.array(img.convert("RGB").resize((w, h), Image.Resampling.BICUBIC))


def label_png(ids: np.ndarray, palette: np.ndarray) -> bytes:
    """(h, w) ids -> a palette-mode PNG: shown in the class colours by any viewer, and
    its pixel values are the class ids (uploading it back gives the same map)."""
    h, w = ids.shape
    img = Image.frombytes("P", (w, h), np.ascontiguousarray(ids, dtype=np.uint8).tobytes())
    flat = np.zeros((256, 3), dtype=np.uint8)
    flat[: len(palette)] = palette
    img.putpalette(flat.reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def rgb_png(rgb: np.ndarray) -> bytes:
    """(h, w, 3) uint8 -> PNG bytes (fast settings: the panels update per stroke)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
