"""The registry of model kinds: `get_kind("mlp")`, `KIND_NAMES`, and the kinds themselves.

The CLI, the sweep, the lab, `resume`, `rerun`, `report` and `runs` look a kind up here instead of
branching on its name; what a kind must provide is `ModelKind` (base.py). Adding a third kind is
one module beside mlp.py and cnn.py plus one line in `KINDS` (docs/architecture.md).

>>> from mnistlab.runs.kinds import get_kind
>>> kind = get_kind("mlp")
>>> config = kind.resolve_config(preset="default", overrides={"pca": 50})
>>> config.pca_components, config.mlp.shift_pixels
(50, 0)
"""

from __future__ import annotations

from mnistlab.errors import ConfigError
from mnistlab.runs.kinds.base import ModelKind
from mnistlab.runs.kinds.cnn import CNNKind
from mnistlab.runs.kinds.mlp import MLPKind

KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (MLPKind(), CNNKind())}
"""Every registered kind by name."""
KIND_NAMES: tuple[str, ...] = tuple(KINDS)


def get_kind(name: str) -> ModelKind:
    """The kind called `name`; ConfigError naming the known kinds otherwise."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"{name!r} is not a model kind; choose one of {', '.join(KIND_NAMES)}") from None


def kind_of_model_file(path) -> ModelKind | None:
    """The kind whose model file `path` is (by its name's suffix), or None."""
    for kind in KINDS.values():
        if str(path).endswith(kind.model_file.removeprefix("model")):
            return kind
    return None


__all__ = ["KINDS", "KIND_NAMES", "ModelKind", "get_kind", "kind_of_model_file"]
