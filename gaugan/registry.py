"""Registries of model builders (timm style): one registered config class per variant.

A registered config is a dataclass with a ``build(ctx) -> nn.Module`` method. The
config holds only that variant's options, so a typo in a key is an error when the
config is constructed, never a silently ignored keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

import torch.nn as nn


@dataclass(frozen=True)
class BuildContext:
    """What the data tells a model builder.

    semantic_nc: channels of the generator's label input (one-hot classes, plus the
        don't-care channel when the data set has one, plus 1 for an instance edge map).
    image_size: (H, W) of the images the model produces and judges.
    output_nc: image channels (3 for RGB).
    use_instance: the label input's last channel is an instance edge map (CLADE treats
        it apart from the classes; OASIS's discriminator predicts classes only).
    """

    semantic_nc: int
    image_size: tuple[int, int]
    output_nc: int = 3
    use_instance: bool = False

    @property
    def label_nc(self) -> int:
        """Class channels of the label input (with don't-care), without the edge map."""
        return self.semantic_nc - (1 if self.use_instance else 0)


class UnknownNameError(KeyError):
    """A registry lookup with a name that is not registered; lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, valid
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(valid)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


C = TypeVar("C")


class Registry(Generic[C]):
    def __init__(self, kind: str):
        self.kind = kind
        self._configs: dict[str, type] = {}

    def register(self, name: str) -> Callable[[type[C]], type[C]]:
        def deco(cls: type[C]) -> type[C]:
            if name in self._configs:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._configs[name] = cls
            cls.arch = name  # type: ignore[attr-defined]  # the YAML key that selects it
            return cls

        return deco

    def names(self) -> list[str]:
        return sorted(self._configs)

    def config_class(self, name: str) -> type[C]:
        try:
            return self._configs[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.names()) from None

    def build(self, name: str, ctx: BuildContext, **options) -> nn.Module:
        """Build variant ``name`` with its config's defaults overridden by ``options``."""
        cfg = self.config_class(name)(**options)
        return cfg.build(ctx)  # type: ignore[attr-defined]


GENERATORS: Registry = Registry("generator")
DISCRIMINATORS: Registry = Registry("discriminator")
ENCODERS: Registry = Registry("encoder")
