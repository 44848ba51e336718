"""The Semantic Encoder's options (width, depth, order, SDM, feedback, DAM) and their choices,
defined once for the encoder, SemCovNet and any configuration built on them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .descriptor_map import FUSION_MODES, MAP_NORMS

__all__ = [
    "ENCODER_OPTION_CHOICES",
    "ENCODER_ORDERS",
    "FEEDBACK_MODES",
    "LAYER_ORDERS",
    "MAX_DEPTH",
    "UNCERTAINTY_SOURCES",
    "SemanticEncoderOptions",
]

#: Order of SDM / cross-attention / DAM within one layer.
LAYER_ORDERS = ("attn_dam", "dam_attn", "mixture")
#: Encoder-level orders (paper Table 5): a layer order for every layer, or one of the two
#: mixtures of early and late layers (:func:`~semcov_layers.encoder.layer_orders`).
ENCODER_ORDERS = ("attn_dam", "dam_attn", "mixture_attn_dam", "mixture_dam_attn", "mixture")
#: How the token after a layer refines the next layer's descriptors.
FEEDBACK_MODES = ("residual", "replace")
#: Which descriptors DAM's uncertainty ``u = 4p(1 - p)`` reads: the input or the refined ones.
UNCERTAINTY_SOURCES = ("input", "refined")
#: Deepest encoder the paper studies (Fig. 6).
MAX_DEPTH = 6


@dataclass(frozen=True)
class SemanticEncoderOptions:
    """Every hyperparameter of :class:`~semcov_layers.SemanticEncoder` (and so of
    :class:`~semcov_layers.SemCovNet`'s encoder); the layer classes (``act_layer``,
    ``norm_layer``, ``token_norm_layer``) stay arguments of the modules.

    Built once, validated on construction; :meth:`replace` gives a validated copy. A
    configuration that stores the options under other names (``semcov_dim``, ...) builds them
    with :meth:`from_prefixed`, so its errors name its own fields.

    Attributes:
        dim: Encoder width D.
        depth: Number of layers, 1 to :data:`MAX_DEPTH`.
        order: One of :data:`ENCODER_ORDERS`.
        feedback: Refine descriptors between layers.
        feedback_mode: One of :data:`FEEDBACK_MODES`.
        uncertainty_source: One of :data:`UNCERTAINTY_SOURCES`.
        sdm_mode: SDM fusion mode (``descriptor | feature | add | mul | gated``).
        map_norm: SDM normalization (``softmax | none``).
        prior_size: Side of the SDM descriptor prior map.
        num_heads: Attention heads.
        attn_dim: Attention width; ``None`` is ``dim // 4``.
        mlp_ratio: Token FFN width as a multiple of ``dim``.
        embed_hidden_dim: Hidden width of psi_d.
        film_hidden_dim: Hidden width of the DAM FiLM MLP.
        dam_residual: Return ``F + F_s`` from every DAM (default ``F_s``, Eq. 6).
        attn_drop: Attention dropout.
        proj_drop: Projection/FFN dropout.

    Example:
        >>> options = SemanticEncoderOptions(dim=32, depth=2)
        >>> options.replace(order="mixture").order, options.feedback
        ('mixture', True)
    """

    dim: int = 256
    depth: int = 3
    order: str = "attn_dam"
    feedback: bool = True
    feedback_mode: str = "residual"
    uncertainty_source: str = "input"
    sdm_mode: str = "gated"
    map_norm: str = "softmax"
    prior_size: int = 4
    num_heads: int = 4
    attn_dim: int | None = None
    mlp_ratio: float = 0.5
    embed_hidden_dim: int | None = None
    film_hidden_dim: int | None = None
    dam_residual: bool = False
    attn_drop: float = 0.0
    proj_drop: float = 0.0

    def __post_init__(self) -> None:
        check_encoder_options(dataclasses.asdict(self))

    def replace(self, **changes: Any) -> SemanticEncoderOptions:
        """A validated copy with some options changed; an unknown name is a ``TypeError``."""
        unknown = sorted(set(changes) - set(option_names()))
        if unknown:
            raise TypeError(
                f"unexpected keyword argument(s) {unknown}: not Semantic Encoder options "
                f"{option_names()}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_prefixed(
        cls, values: Mapping[str, Any], prefix: str, **overrides: Any
    ) -> SemanticEncoderOptions:
        """The options stored as ``<prefix><name>`` in `values` (other keys are ignored), the
        rest at their defaults; errors name the prefixed field.

        Args:
            values: e.g. a configuration's fields, ``{"semcov_dim": 64, ...}``.
            prefix: e.g. ``"semcov_"``.
            **overrides: options set directly (unprefixed), e.g. a resolved ``order``.
        """
        options = {
            name: values[prefix + name] for name in option_names() if prefix + name in values
        }
        options.update(overrides)
        check_encoder_options(options, prefix=prefix)
        return cls(**options)


def option_names() -> tuple[str, ...]:
    """The field names of :class:`SemanticEncoderOptions`, in order."""
    return tuple(f.name for f in dataclasses.fields(SemanticEncoderOptions))


#: Options with a fixed set of values, and those values.
ENCODER_OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "order": ENCODER_ORDERS,
    "feedback_mode": FEEDBACK_MODES,
    "uncertainty_source": UNCERTAINTY_SOURCES,
    "sdm_mode": FUSION_MODES,
    "map_norm": MAP_NORMS,
}

_POSITIVE_INTS = ("dim", "depth", "prior_size", "num_heads")
_OPTIONAL_POSITIVE_INTS = ("attn_dim", "embed_hidden_dim", "film_hidden_dim")


def check_encoder_options(values: Mapping[str, Any], *, prefix: str = "") -> None:
    """Raise ``TypeError`` / ``ValueError`` for an option of the wrong type or out of range.

    Args:
        values: option name -> value (unprefixed; missing ones are not checked).
        prefix: how the caller names its fields (``"semcov_"``); messages name
            ``<prefix><name>``, or ```name``` without a prefix.
    """

    def label(name: str) -> str:
        return f"{prefix}{name}" if prefix else f"`{name}`"

    for name in _POSITIVE_INTS + _OPTIONAL_POSITIVE_INTS:
        value = values.get(name)
        if value is None and (name in _OPTIONAL_POSITIVE_INTS or name not in values):
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{label(name)} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{label(name)} must be >= 1, got {value}")
    depth = values.get("depth")
    if depth is not None and depth > MAX_DEPTH:
        raise ValueError(
            f"{label('depth')} must be between 1 and {MAX_DEPTH} (paper Fig. 6), got {depth}"
        )
    for name, choices in ENCODER_OPTION_CHOICES.items():
        if name in values and values[name] not in choices:
            options = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{label(name)} must be one of {options}, got {values[name]!r}")
