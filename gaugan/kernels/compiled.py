"""The `compile` backend: torch.compile of the plain-torch norm-modulate step.

One compiled function per (statistics mode, activation on/off), each built from its
own copy of the code object: Dynamo keeps its cache and recompile limit per code
object, so a generator's mix of modes, activations, shapes, dtypes and grad modes
does not exhaust one shared limit (8). Shapes go dynamic after the first recompile;
past the limit a function runs eagerly (correct numbers, a Dynamo warning), never fails.
"""

from __future__ import annotations

import functools
import types

import torch

from gaugan.kernels.torch_norm import norm_modulate


@functools.lru_cache(maxsize=None)
def compiled_norm_modulate(mode: str, act: bool):
    """torch.compile of norm_modulate, for one mode and activation setting."""
    code = norm_modulate.__code__.replace(co_name=f"norm_modulate_{mode}_{'act' if act else 'id'}")
    fn = types.FunctionType(code, norm_modulate.__globals__, code.co_name,
                            norm_modulate.__defaults__, norm_modulate.__closure__)
    return torch.compile(fn)
