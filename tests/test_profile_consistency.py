"""`bench profile spade` says when its timings contradict themselves (a shared machine)."""

from __future__ import annotations

from bench.profile.spade import inconsistencies


def _row(pass_, ms, provider="eager", error=""):
    return {"level": "resblock", "provider": provider, "N": 1, "C": 64, "H": 32, "W": 32,
            "layout": "contiguous", "pass": pass_, "ms": ms, "error": error}


def test_a_forward_slower_than_forward_and_backward_is_flagged():
    rows = [_row("fwd", 876.0), _row("fwd+bwd", 424.0), _row("fwd", 1.0, "compile"),
            _row("fwd+bwd", 3.0, "compile")]
    said = "resblock eager 1x64x32x32 contiguous: forward alone 876.000 ms > forward+backward"
    assert inconsistencies(rows) == [f"{said} 424.000 ms"]


def test_consistent_timings_and_failed_cases_say_nothing_and_load_is_flagged():
    rows = [_row("fwd", 1.0), _row("fwd+bwd", 2.5), _row("fwd", 9.0, "compile"),
            _row("fwd+bwd", float("nan"), "compile", error="boom")]
    assert inconsistencies(rows, (1.0, 1.9), cores=2) == []
    load = inconsistencies(rows, (1.0, 4.2), cores=2)
    assert load == ["load average 4.2 on 2 cores while profiling"]
