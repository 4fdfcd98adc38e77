"""The painter's HTTP API (Starlette): the page, the run's facts, and rendering.

    GET  /                     the page (bench/paint/static/index.html)
    GET  /api/info             size, classes (names, colours), variants with their seeds
    GET  /api/val/{i}          validation label map i                 -> {"labels": b64}
    POST /api/labels/decode    body: a label image (ids or colours)   -> {"labels": b64}
    POST /api/labels/png       {"labels": b64}                        -> palette PNG
    POST /api/photo            body: a reference photo                -> {"photo": id}
    POST /api/photo/val/{i}    validation photo i as the reference    -> {"photo": id}
    POST /api/render           {"labels", "variant", "seed", "style"} -> PNG (X-Render-Ms)

Every input is checked (size, class ids, image format, JSON fields) and a bad one is
answered {"error": message} with a 4xx status; an unexpected failure is a 500 with the
same shape, logged, and the server goes on. Uploads are raw request bodies (the page
sends the File as it is), refused by Content-Length before they are read or decoded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bench.paint import labels as L
from bench.paint.labels import PaintError
from bench.paint.models import Painter
from bench.paint.style import Style

log = logging.getLogger("bench.paint")
STATIC = Path(__file__).resolve().parent / "static"
JSON_LIMIT = 4 * 1024 * 1024  # a render request at 1024x1024 is 1.4 MB of base64


class LabelsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: str


class RenderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: str
    variant: str
    seed: int | None = Field(None, ge=0)  # None: the variant's lowest seed
    style: Style = Style()


def api(fn):
    """An endpoint method: PaintError -> its 4xx JSON; anything else -> a logged 500 JSON.
    Never raises."""

    @functools.wraps(fn)
    async def endpoint(self, request: Request) -> Response:
        try:
            return await fn(self, request)
        except PaintError as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        except Exception as e:
            log.exception("painter: %s %s failed", request.method, request.url.path)
            return JSONResponse({"error": f"internal error: {type(e).__name__}: {e}"},
                                status_code=500)

    return endpoint


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 from Content-Length (nothing read) or, without
    one, as soon as more than `limit` bytes have arrived."""
    L.check_upload_size(request.headers.get("content-length"), limit)
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise PaintError(413, f"upload larger than {limit / 2**20:.0f} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, model: type[BaseModel]) -> BaseModel:
    raw = await read_body(request, JSON_LIMIT)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PaintError(400, "request body: not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise PaintError(422, f"{where}: {err['msg']}") from None


def path_index(request: Request, count: int, what: str) -> int:
    raw = request.path_params["index"]
    if not raw.isdigit() or int(raw) >= count:
        raise PaintError(404, f"{what} {raw}: valid 0..{count - 1}" if count
                         else f"{what}: none available")
    return int(raw)


class PaintApp:
    """The endpoints over one Painter (and its run's validation maps)."""

    def __init__(self, painter: Painter, run_dir: str = ""):
        self.p = painter
        self.run_dir = run_dir
        self.palette = np.asarray(painter.info.palette, dtype=np.uint8)
        self.val, self.val_note = self._val_set()

    def _val_set(self):
        """The validation split of the runs' data set (None, why: when it cannot be read)."""
        from bench.data.registry import build_dataset
        from bench.errors import BenchError

        try:
            ds = build_dataset(self.p.data_cfg, "val")
            return ds, None
        except (BenchError, OSError) as e:
            return None, f"no validation maps: {e}"

    def info(self) -> dict:
        info = self.p.info
        names = list(info.class_names) + [f"class {i}" for i in
                                           range(len(info.class_names), info.num_classes)]
        if info.dontcare_id is not None:
            names.append("don't care")
        variants = []
        for v, seeds in self.p.seeds.items():
            m = self.p.model(v, min(seeds))
            variants.append({"name": v, "seeds": sorted(seeds), "style": m.z_dim > 0,
                             "encoder": m.E is not None, "arch": m.arch, "step": m.step})
        return {
            "run_dir": self.run_dir, "dataset": info.name,
            "size": list(self.p.size), "dontcare": info.dontcare_id,
            "classes": [{"id": i, "name": n, "color": list(c)}
                        for i, (n, c) in enumerate(zip(names, info.palette, strict=True))],
            "variants": variants,
            "val_count": len(self.val) if self.val is not None else 0, "val_note": self.val_note,
            "val_photos": bool(self.val is not None and self.val.has_photos),
            "max_upload_bytes": L.MAX_UPLOAD_BYTES, "device": str(self.p.device),
        }

    def num_ids(self) -> int:
        return len(self.palette)

    # -- endpoints ------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @api
    async def get_info(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self.info))

    @api
    async def get_val(self, request: Request) -> Response:
        i = path_index(request, len(self.val) if self.val is not None else 0, "validation map")
        _, ids, _ = await run_in_threadpool(self.val.load, i)
        return JSONResponse({"labels": L.ids_to_b64(ids)})

    @api
    async def decode_labels(self, request: Request) -> Response:
        data = await read_body(request, L.MAX_UPLOAD_BYTES)
        ids = await run_in_threadpool(L.decode_label_image, data, self.p.size, self.palette)
        return JSONResponse({"labels": L.ids_to_b64(ids)})

    @api
    async def labels_png(self, request: Request) -> Response:
        body = await read_json(request, LabelsBody)
        ids = L.ids_from_b64(body.labels, self.p.size, self.num_ids())
        return Response(L.label_png(ids, self.palette), media_type="image/png")

    def _keep_photo(self, rgb) -> JSONResponse:
        key = hashlib.sha256(rgb.tobytes()).hexdigest()[:16]
        self.p.add_photo(key, rgb)
        return JSONResponse({"photo": key})

    @api
    async def upload_photo(self, request: Request) -> Response:
        data = await read_body(request, L.MAX_UPLOAD_BYTES)
        rgb = await run_in_threadpool(L.decode_photo, data, self.p.size)
        return self._keep_photo(rgb)

    @api
    async def val_photo(self, request: Request) -> Response:
        ok = self.val is not None and self.val.has_photos
        i = path_index(request, len(self.val) if ok else 0, "validation photo")
        rgb, _, _ = await run_in_threadpool(self.val.load, i)
        return self._keep_photo(rgb)

    @api
    async def render(self, request: Request) -> Response:
        body = await read_json(request, RenderBody)
        ids = L.ids_from_b64(body.labels, self.p.size, self.num_ids())
        seeds = self.p.seeds.get(body.variant)
        seed = body.seed if body.seed is not None or not seeds else min(seeds)
        out = await run_in_threadpool(self.p.render, body.variant, seed, ids, body.style)
        png = await run_in_threadpool(L.rgb_png, out.rgb)
        return Response(png, media_type="image/png", headers={
            "X-Render-Ms": f"{out.ms:.1f}", "Cache-Control": "no-store"})


def create_app(painter: Painter, run_dir: str = "") -> Starlette:
    a = PaintApp(painter, run_dir)
    return Starlette(routes=[
        Route("/", a.page),
        Route("/api/info", a.get_info),
        Route("/api/val/{index}", a.get_val),
        Route("/api/labels/decode", a.decode_labels, methods=["POST"]),
        Route("/api/labels/png", a.labels_png, methods=["POST"]),
        Route("/api/photo", a.upload_photo, methods=["POST"]),
        Route("/api/photo/val/{index}", a.val_photo, methods=["POST"]),
        Route("/api/render", a.render, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
