// bench paint: the label-map editor and the live output panels.
//
// The label map is a Uint8Array of class ids (row by row) at the model's resolution; the
// canvas shows it in the data set's colours, scaled up. Every change bumps `gen`; each
// panel keeps at most one render request in flight and, when it returns, sends one more
// only if the map changed meanwhile, with the latest map: the newest state always wins
// and requests never pile up behind a slow model.
"use strict";

const CANVAS_PX = 384;   // the long side of the canvas on screen
const PANEL_PX = 320;    // and of each output panel (two fit beside the editor)
const DEBOUNCE_MS = 15;   // coalesce pointer events of one frame into one request
const MAX_UNDO = 100;

const $ = (sel, root = document) => root.querySelector(sel);
const state = {
  info: null, w: 0, h: 0, labels: null, lut: null,
  tool: "brush", cls: 0, eraser: 0, size: 8,
  undo: [], redo: [], stroke: null, gen: 0, panels: [], timer: null,
  style: { a: { kind: "seed", seed: 0, photo: null }, b: { kind: "seed", seed: 1, photo: null },
           mix: false, t: 0 },
};

// ---- errors ------------------------------------------------------------------------------

function showError(msg) {
  $("#error-text").textContent = msg;
  $("#error").hidden = false;
}
function clearError() { $("#error").hidden = true; $("#error-text").textContent = ""; }

async function errorOf(resp) {
  try { return (await resp.json()).error || `HTTP ${resp.status}`; }
  catch (_) { return `HTTP ${resp.status} ${resp.statusText}`; }
}

async function api(path, opts = {}) {
  let resp;
  try { resp = await fetch(path, opts); }
  catch (e) { throw new Error(`the painter server is not answering (${e.message})`); }
  if (!resp.ok) throw new Error(await errorOf(resp));
  return resp;
}

function postJSON(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                     body: JSON.stringify(body) });
}

// Uploads are sent as the raw file; the server refuses too-large ones by Content-Length,
// and so does the page, before sending anything.
function postFile(path, file) {
  const limit = state.info.max_upload_bytes;
  if (file.size > limit) {
    return Promise.reject(new Error(`upload of ${(file.size / 2 ** 20).toFixed(1)} MB: ` +
                                    `the limit is ${limit / 2 ** 20} MB`));
  }
  return api(path, { method: "POST", body: file,
                     headers: { "Content-Type": file.type || "application/octet-stream" } });
}

// ---- label map <-> base64 ------------------------------------------------------------------

function toB64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
function fromB64(text) {
  const s = atob(text), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---- drawing -------------------------------------------------------------------------------

function redraw() {
  const ctx = $("#canvas").getContext("2d");
  const img = ctx.createImageData(state.w, state.h), px = img.data, lut = state.lut;
  for (let i = 0; i < state.labels.length; i++) {
    const c = state.labels[i] * 3;
    px[4 * i] = lut[c]; px[4 * i + 1] = lut[c + 1]; px[4 * i + 2] = lut[c + 2]; px[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function checkpoint() {  // before every edit: what Undo brings back
  state.undo.push(state.labels.slice());
  if (state.undo.length > MAX_UNDO) state.undo.shift();
  state.redo = [];
  updateUndoButtons();
}
function updateUndoButtons() {
  $("#undo").disabled = state.undo.length === 0;
  $("#redo").disabled = state.redo.length === 0;
}

function setLabels(ids, remember = true) {
  if (remember) checkpoint();
  state.labels = ids;
  redraw();
  changed();
}

// A disc of diameter `size` label pixels around (x, y) (label-pixel coordinates).
function disc(x, y, cls) {
  const r = state.size / 2, { w, h, labels } = state;
  const x0 = Math.max(0, Math.floor(x - r)), x1 = Math.min(w - 1, Math.ceil(x + r));
  const y0 = Math.max(0, Math.floor(y - r)), y1 = Math.min(h - 1, Math.ceil(y + r));
  for (let j = y0; j <= y1; j++) {
    for (let i = x0; i <= x1; i++) {
      const dx = i + 0.5 - x, dy = j + 0.5 - y;
      if (dx * dx + dy * dy <= r * r) labels[j * w + i] = cls;
    }
  }
  const i = Math.floor(x), j = Math.floor(y);  // the pixel under the pointer, at any size
  if (i >= 0 && i < w && j >= 0 && j < h) labels[j * w + i] = cls;
}

function segment(a, b, cls) {  // discs along a -> b, close enough to leave no gaps
  const n = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / Math.max(0.5, state.size / 4)));
  for (let k = 1; k <= n; k++) disc(a.x + (b.x - a.x) * k / n, a.y + (b.y - a.y) * k / n, cls);
}

function floodFill(x, y, cls) {  // 4-connected, iterative (no recursion limit)
  const { w, h, labels } = state, start = y * w + x, target = labels[start];
  if (target === cls) return false;
  const stack = new Int32Array(w * h + 1);
  let top = 0;
  stack[top++] = start;
  labels[start] = cls;
  while (top > 0) {
    const p = stack[--top], px = p % w, py = (p - px) / w;
    const next = [px > 0 ? p - 1 : -1, px < w - 1 ? p + 1 : -1,
                  py > 0 ? p - w : -1, py < h - 1 ? p + w : -1];
    for (const q of next) {
      if (q >= 0 && labels[q] === target) { labels[q] = cls; stack[top++] = q; }
    }
  }
  return true;
}

function pointAt(ev) {
  const r = $("#canvas").getBoundingClientRect();
  return { x: (ev.clientX - r.left) / r.width * state.w, y: (ev.clientY - r.top) / r.height * state.h };
}

function paintClass() { return state.tool === "eraser" ? state.eraser : state.cls; }

function onDown(ev) {
  if (ev.button !== 0 || !state.labels) return;
  ev.preventDefault();
  const p = pointAt(ev);
  if (state.tool === "fill") {
    const x = Math.floor(p.x), y = Math.floor(p.y);
    if (x < 0 || y < 0 || x >= state.w || y >= state.h) return;
    const before = state.labels.slice();
    if (floodFill(x, y, paintClass())) {
      state.undo.push(before); state.redo = []; updateUndoButtons();
      redraw(); changed();
    }
    return;
  }
  $("#canvas").setPointerCapture(ev.pointerId);
  checkpoint();
  state.stroke = p;
  disc(p.x, p.y, paintClass());
  redraw(); changed();
}
function onMove(ev) {
  const p = pointAt(ev);
  showHover(p);
  if (!state.stroke) return;
  segment(state.stroke, p, paintClass());
  state.stroke = p;
  redraw(); changed();
}
function onUp() { state.stroke = null; }

function showHover(p) {
  const x = Math.floor(p.x), y = Math.floor(p.y);
  if (x < 0 || y < 0 || x >= state.w || y >= state.h) { $("#hover").textContent = ""; return; }
  const c = state.info.classes[state.labels[y * state.w + x]];
  $("#hover").textContent = `${x}, ${y}: ${c ? c.name : "?"}`;
}

function undo() {
  if (!state.undo.length) return;
  state.redo.push(state.labels);
  state.labels = state.undo.pop();
  updateUndoButtons(); redraw(); changed();
}
function redo() {
  if (!state.redo.length) return;
  state.undo.push(state.labels);
  state.labels = state.redo.pop();
  updateUndoButtons(); redraw(); changed();
}

// ---- panels --------------------------------------------------------------------------------

function changed() {
  state.gen += 1;
  document.body.dataset.gen = String(state.gen);
  clearTimeout(state.timer);
  state.timer = setTimeout(() => state.panels.forEach(request), DEBOUNCE_MS);
}

function setBusy() {
  document.body.dataset.busy = String(state.panels.filter(p => p.busy).length);
}

function sourceFor(panel, src) {  // a photo style needs the panel's own encoder
  if (src.kind === "photo" && !panel.variant.encoder) return { kind: "seed", seed: src.seed };
  const { kind, seed, photo } = src;
  return kind === "photo" ? { kind, seed, photo } : { kind, seed };
}

function styleFor(panel) {
  const s = state.style;
  return { a: sourceFor(panel, s.a), b: s.mix ? sourceFor(panel, s.b) : null, t: s.t };
}

async function request(panel) {
  if (panel.busy) { panel.dirty = true; return; }
  panel.busy = true; panel.dirty = false; setBusy();
  const gen = state.gen, t0 = performance.now();
  const body = { labels: toB64(state.labels), variant: panel.variant.name, seed: panel.seed };
  if (panel.variant.style) body.style = styleFor(panel);
  try {
    const resp = await postJSON("/api/render", body);
    const blob = await resp.blob();
    if (panel.url) URL.revokeObjectURL(panel.url);
    panel.url = URL.createObjectURL(blob);
    panel.img.src = panel.url;
    await panel.img.decode().catch(() => {});
    panel.img.dataset.gen = String(gen);
    panel.el.classList.remove("failed");
    const total = performance.now() - t0;
    panel.latency.textContent = `${total.toFixed(0)} ms (model ${resp.headers.get("X-Render-Ms")} ms)`;
    panel.dl.href = panel.url;
  } catch (e) {
    panel.el.classList.add("failed");
    panel.img.dataset.gen = String(gen);
    showError(`${panel.variant.name}: ${e.message}`);
  } finally {
    panel.busy = false; setBusy();
    if (panel.dirty) request(panel);
  }
}

function makePanel(v) {
  const el = document.createElement("figure");
  el.className = "panel";
  el.dataset.variant = v.name;
  el.innerHTML = `<figcaption><span class="name"></span>
      <label>seed <select class="seed"></select></label><span class="latency"></span></figcaption>
    <img class="out" alt="">
    <div class="panel-foot"><span class="note"></span><a class="dl" href="#">Download PNG</a></div>`;
  $(".name", el).textContent = v.name;
  $(".note", el).textContent = `${v.arch}, step ${v.step}` + (v.style ? (v.encoder ? ", style encoder" : ", style seed") : "");
  const select = $(".seed", el);
  for (const s of v.seeds) select.add(new Option(String(s), String(s)));
  const panel = { variant: v, seed: v.seeds[0], el, img: $("img", el), latency: $(".latency", el),
                  dl: $("a.dl", el), busy: false, dirty: false, url: null };
  const d = displaySize(PANEL_PX);
  panel.img.width = d.w; panel.img.height = d.h;
  panel.dl.download = `${v.name}-seed${panel.seed}.png`;
  select.addEventListener("change", () => {
    panel.seed = Number(select.value);
    panel.dl.download = `${v.name}-seed${panel.seed}.png`;
    changed();
  });
  return panel;
}

// ---- style controls ------------------------------------------------------------------------

function describe(src) { return src.kind === "photo" ? "style of the photo" : `seed ${src.seed}`; }

function initStyle() {
  const styled = state.info.variants.filter(v => v.style);
  if (!styled.length) return;
  $("#style").hidden = false;
  const anyEncoder = styled.some(v => v.encoder);
  for (const row of document.querySelectorAll(".style-row")) {
    const src = state.style[row.dataset.which];
    const seedBox = $(".seed", row), label = $(".source", row);
    const show = () => { label.textContent = describe(src); seedBox.value = String(src.seed); };
    for (const el of row.querySelectorAll(".photo-only")) el.hidden = !anyEncoder;
    if (!state.info.val_photos) $(".val-photo", row).hidden = true;
    seedBox.addEventListener("change", () => {
      src.kind = "seed"; src.seed = Math.max(0, Math.floor(Number(seedBox.value) || 0));
      show(); changed();
    });
    $(".random", row).addEventListener("click", () => {
      src.kind = "seed"; src.seed = Math.floor(Math.random() * 2 ** 31);
      show(); changed();
    });
    const usePhoto = (resp) => resp.json().then(j => { src.kind = "photo"; src.photo = j.photo; show(); changed(); });
    $(".photo", row).addEventListener("change", (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (file) postFile("/api/photo", file).then(usePhoto)
        .catch(e => showError(`${file.name}: ${e.message}`));
    });
    $(".val-photo", row).addEventListener("click", () => {
      postJSON(`/api/photo/val/${Number($("#val-index").value) || 0}`, {}).then(usePhoto)
        .catch(e => showError(e.message));
    });
    show();
  }
  const mix = $("#mix"), t = $("#t");
  const syncMix = () => { t.disabled = !mix.checked; $(".style-row[data-which=b]").classList.toggle("off", !mix.checked); };
  mix.addEventListener("change", () => { state.style.mix = mix.checked; syncMix(); changed(); });
  t.addEventListener("input", () => { state.style.t = Number(t.value) / 100; changed(); });
  syncMix();
}

// ---- set-up --------------------------------------------------------------------------------

function displaySize(px) {
  const s = px / Math.max(state.w, state.h);
  return { w: Math.round(state.w * s), h: Math.round(state.h * s) };
}

function selectClass(id) {
  state.cls = id;
  for (const b of document.querySelectorAll("#palette button")) {
    const on = Number(b.dataset.class) === id;
    b.classList.toggle("active", on);
    b.setAttribute("aria-checked", String(on));
  }
  if (state.tool === "eraser") selectTool("brush");
}

function selectTool(tool) {
  state.tool = tool;
  for (const b of document.querySelectorAll(".tool")) b.classList.toggle("active", b.dataset.tool === tool);
}

function setSize(n) {
  state.size = Math.min(48, Math.max(1, n));
  $("#size").value = String(state.size);
  $("#size-value").textContent = String(state.size);
}

async function loadVal(i) {
  try {
    const j = await (await api(`/api/val/${i}`)).json();
    setLabels(fromB64(j.labels), state.labels !== null);
    clearError();
  } catch (e) { showError(e.message); }
}

async function downloadLabels() {
  try {
    const blob = await (await postJSON("/api/labels/png", { labels: toB64(state.labels) })).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "labels.png";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) { showError(e.message); }
}

function bindControls() {
  const canvas = $("#canvas");
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("pointerleave", () => { $("#hover").textContent = ""; });
  for (const b of document.querySelectorAll(".tool")) b.addEventListener("click", () => selectTool(b.dataset.tool));
  $("#size").addEventListener("input", (e) => setSize(Number(e.target.value)));
  $("#eraser-class").addEventListener("change", (e) => { state.eraser = Number(e.target.value); });
  $("#undo").addEventListener("click", undo);
  $("#redo").addEventListener("click", redo);
  $("#clear").addEventListener("click", () => setLabels(new Uint8Array(state.w * state.h).fill(state.eraser)));
  $("#val-load").addEventListener("click", () => loadVal(Number($("#val-index").value) || 0));
  $("#label-download").addEventListener("click", downloadLabels);
  $("#error-close").addEventListener("click", clearError);
  $("#label-file").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    ev.target.value = "";  // the same file again is a new change
    if (!file) return;
    try {
      const j = await (await postFile("/api/labels/decode", file)).json();
      setLabels(fromB64(j.labels));
      clearError();
    } catch (e) { showError(`${file.name}: ${e.message}`); }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
    const k = ev.key.toLowerCase();
    if ((ev.ctrlKey || ev.metaKey) && k === "z") { ev.preventDefault(); ev.shiftKey ? redo() : undo(); }
    else if ((ev.ctrlKey || ev.metaKey) && k === "y") { ev.preventDefault(); redo(); }
    else if (k === "b") selectTool("brush");
    else if (k === "f") selectTool("fill");
    else if (k === "e") selectTool("eraser");
    else if (k === "[") setSize(state.size - 1);
    else if (k === "]") setSize(state.size + 1);
  });
}

function buildPalette() {
  const pal = $("#palette"), eraser = $("#eraser-class");
  state.lut = new Uint8Array(256 * 3);
  for (const c of state.info.classes) {
    state.lut.set(c.color, c.id * 3);
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.class = String(c.id);
    b.setAttribute("role", "radio");
    b.title = `class ${c.id}`;
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = `rgb(${c.color.join(",")})`;
    b.append(sw, document.createTextNode(c.name));
    b.addEventListener("click", () => selectClass(c.id));
    pal.appendChild(b);
    eraser.add(new Option(`${c.id} ${c.name}`, String(c.id)));
  }
  state.eraser = state.info.dontcare ?? 0;
  eraser.value = String(state.eraser);
  selectClass(state.info.classes.length > 1 ? 1 : 0);
}

async function main() {
  bindControls();
  try {
    state.info = await (await api("/api/info")).json();
  } catch (e) { showError(e.message); return; }
  const info = state.info;
  [state.h, state.w] = info.size;
  $("#run").textContent = `${info.run_dir} · ${info.dataset} · ${state.w}x${state.h} · ${info.device}`;
  const canvas = $("#canvas"), d = displaySize(CANVAS_PX);
  canvas.width = state.w; canvas.height = state.h;
  canvas.style.width = `${d.w}px`; canvas.style.height = `${d.h}px`;
  buildPalette();
  initStyle();
  $("#val-index").max = String(Math.max(0, info.val_count - 1));
  for (const v of info.variants) {
    const p = makePanel(v);
    state.panels.push(p);
    $("#panels").appendChild(p.el);
  }
  updateUndoButtons();
  if (info.val_count > 0) await loadVal(0);
  else if (info.val_note) showError(info.val_note);
  if (!state.labels) setLabels(new Uint8Array(state.w * state.h).fill(state.eraser), false);
}

main();
