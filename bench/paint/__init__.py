"""`bench paint RUN_DIR`: a local web page where a user paints a label map and every
trained variant of a run folder renders it live, side by side.

    runs.py     find the (variant, seed) run folders under RUN_DIR
    labels.py   label maps in and out: uploads (ids or colours), base64, palette PNGs
    style.py    style codes z for multimodal generators: seeded, from a photo, mixed
    models.py   one loaded generator per (variant, seed), and rendering a label map
    server.py   the HTTP API (Starlette): request validation, JSON errors
    serve.py    the command: check RUN_DIR, device, port and extra, then run uvicorn
    static/     the page itself: plain HTML, JS and CSS, no network needed
"""
