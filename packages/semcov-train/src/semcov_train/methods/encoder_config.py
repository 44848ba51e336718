"""How a TrainConfig carries the SemCovNet encoder options: flat ``semcov_<option>`` fields
whose names, defaults, choices and ranges all come from semcov_layers.SemanticEncoderOptions.

The fields stay flat rather than one nested ``SemanticEncoderOptions`` field: the flat names are
the command-line options, the keys of ``config.json`` and of the apps' switches, and part of the
settings hash that names a run directory, so nesting them would orphan every finished run and
break resume. Nothing is written twice: a field's default is the option's default, its choices
are ``ENCODER_OPTION_CHOICES``, its range is checked by building the options, and the field to
option mapping is derived from the options' fields (:func:`semcov_fields`, which also refuses a
``semcov_*`` field that is not an option of the same type). Only ``semcov_order`` differs: it
adds ``auto``, resolved per modality by :func:`semcov_train.inputs.resolve.resolve_semcov_order`.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from typing import Any

from semcov_layers.encoder_options import ENCODER_ORDERS, SemanticEncoderOptions, option_names

__all__ = ["SEMCOV_ORDERS", "SEMCOV_PREFIX", "encoder_options", "semcov_fields"]

#: The Semantic Encoder options a TrainConfig sets are its fields ``semcov_<option>``.
SEMCOV_PREFIX = "semcov_"
#: ``semcov_order`` also takes ``auto``.
SEMCOV_ORDERS = ("auto", *ENCODER_ORDERS)


def semcov_fields(config_type: Any) -> dict[str, str]:
    """Config field -> option name for every ``semcov_*`` field of a dataclass type.

    Raises:
        TypeError: a ``semcov_*`` field that is not an encoder option of the same type.
    """
    ours = typing.get_type_hints(config_type)
    theirs = typing.get_type_hints(SemanticEncoderOptions)
    mapping = {SEMCOV_PREFIX + name: name for name in option_names()}
    found = {}
    for f in fields(config_type):
        if f.name.startswith(SEMCOV_PREFIX):
            option = mapping.get(f.name)
            if option is None or ours[f.name] != theirs[option]:
                raise TypeError(f"{f.name} is not a SemanticEncoderOptions field of its type")
            found[f.name] = option
    return found


def encoder_options(config: Any, order: str | None = None) -> SemanticEncoderOptions:
    """The ``semcov_*`` fields of `config` as :class:`semcov_layers.SemanticEncoderOptions`.

    Args:
        config: a TrainConfig.
        order: the encoder order to use; ``None`` takes ``semcov_order``, which must not be
            ``auto`` then.
    """
    names = [SEMCOV_PREFIX + name for name in option_names()]
    values = {name: getattr(config, name) for name in names if hasattr(config, name)}
    if order is None and config.semcov_order == "auto":
        raise ValueError("semcov_order is 'auto': pass the order resolved for the run")
    overrides = {} if order is None else {"order": order}
    return SemanticEncoderOptions.from_prefixed(values, SEMCOV_PREFIX, **overrides)
