"""The effective objective of a run: every loss term with the weight it trained with, or
"off" and why, as train_stats.json records it (key "objective").

The config says what was asked; this says what ran (the VGG19 loss is turned off when its
weight file is missing, KL needs an encoder, a weight of 0 turns a term off). Pure data,
no torch: the report rebuilds the same record for run folders written before it existed,
from config.yaml's train.losses and train_stats.json's "vgg_loss".
"""

from __future__ import annotations

# term id -> (display name, config key of its weight); the GAN term has weight 1.
TERMS = {
    "gan": ("GAN", None),
    "feat": ("feature matching", "lambda_feat"),
    "vgg": ("VGG19 perceptual", "lambda_vgg"),
    "kl": ("KL (encoder)", "lambda_kl"),
    "l1": ("L1", "lambda_l1"),
}
SHORT = {"gan": "GAN", "feat": "FM", "vgg": "VGG", "kl": "KL", "l1": "L1"}


def vgg_reason(vgg_status: str | None) -> str | None:
    """None when the VGG loss ran, else why not (from Objective.vgg_status)."""
    if vgg_status is None or vgg_status == "on":
        return None
    if vgg_status.startswith("disabled:"):  # "disabled: FILE missing in FOLDER"
        what = vgg_status.split(":", 1)[1].strip()
        return "weight file " + what.split(" in ", 1)[0].strip()
    return "lambda_vgg 0" if "lambda_vgg 0" in vgg_status else vgg_status


def effective_objective(losses: dict, has_encoder: bool, vgg_status: str | None) -> dict:
    """{"terms": {id: {"name", "weight", "on", "reason"}}, "summary": str}.

    losses: train.losses as a dict (gan_mode, lambda_*); vgg_status: "on", "off (lambda_vgg
    0)" or "disabled: FILE missing in FOLDER" (None: unknown, taken as on when weighted).
    """
    terms = {}
    for tid, (name, key) in TERMS.items():
        weight = 1.0 if key is None else float(losses.get(key, 0.0) or 0.0)
        reason = None
        if key is not None and weight <= 0:
            reason = f"{key} 0"
        elif tid == "kl" and not has_encoder:
            reason = "no encoder"
        elif tid == "vgg":
            reason = vgg_reason(vgg_status)
        if tid == "gan":
            name = f"GAN ({losses.get('gan_mode', 'hinge')})"
        terms[tid] = {"name": name, "weight": weight, "on": reason is None, "reason": reason}
    return {"terms": terms, "summary": summary(terms)}


def summary(terms: dict) -> str:
    """'hinge GAN + FM 10 + VGG 10 (off: VGG: weight file X missing)'-style one line."""
    on = [f"{SHORT.get(t, t)} {r['weight']:g}" if t != "gan" else r["name"]
          for t, r in terms.items() if r["on"]]
    # Terms off because their weight is 0 (or KL without an encoder) are not news;
    # a weighted term that did not run is.
    lost = [f"{SHORT.get(t, t)} off: {r['reason']}" for t, r in terms.items()
            if not r["on"] and r["weight"] > 0 and r["reason"] != "no encoder"]
    text = " + ".join(on)
    return f"{text} ({'; '.join(lost)})" if lost else text


def cell(term: dict) -> str:
    """A report table cell: the weight, or 'off: reason'."""
    if term["on"]:
        return f"{term['weight']:g}"
    return f"off: {term['reason']}"
