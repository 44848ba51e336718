"""Settings whose ``auto`` value depends on the dataset, resolved before a run starts."""

from __future__ import annotations

from ..config import TrainConfig
from .sources import resolve_modality

__all__ = ["SEMCOV_ORDER_BY_MODALITY", "resolve_config", "resolve_semcov_order"]

#: The encoder order ``semcov_order="auto"`` gives per modality; any other modality (clinical,
#: CelebA photos, a user's own images) gets ``attn_dam``. Paper Table 5: ``mixture_dam_attn``
#: is best on dermoscopic images, ``attn_dam`` on clinical ones.
SEMCOV_ORDER_BY_MODALITY = {"dermoscopic": "mixture_dam_attn"}
DEFAULT_SEMCOV_ORDER = "attn_dam"


def resolve_semcov_order(config: TrainConfig) -> str:
    """``config.semcov_order``, or for ``auto`` the order of the run's modality.

    Paper: Table 5 finds ``mixture_dam_attn`` best for dermoscopic and ``attn_dam`` for
    clinical images; here: ``auto`` (the default) picks that per modality, so the command line
    and the apps train the same dermoscopic model.
    """
    if config.semcov_order != "auto":
        return config.semcov_order
    return SEMCOV_ORDER_BY_MODALITY.get(resolve_modality(config), DEFAULT_SEMCOV_ORDER)


def resolve_config(config: TrainConfig) -> TrainConfig:
    """`config` with its ``auto`` settings that depend on the dataset replaced by their
    values: what a run's ``config.json`` stores and what resuming compares against."""
    order = resolve_semcov_order(config)
    return config if order == config.semcov_order else config.replace(semcov_order=order)
