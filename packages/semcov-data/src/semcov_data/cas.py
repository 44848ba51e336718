"""Compositional attribute scarcity (CAS) on sample tables: which columns are the attributes,
sampling weights and a weighted sampler, and the low / middle / high evaluation subsets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from torch.utils.data import WeightedRandomSampler

from semcov_data._validation import check_choice, require_columns
from semcov_data.samplers import _sampler
from semcov_data.scg import AGE_BINS, subgroup_labels
from semcov_data.table import SampleTable
from semcov_metrics import cas_sampling_weights, cas_subsets, compositional_attribute_scarcity

__all__ = [
    "CAS_METADATA_COLUMNS",
    "CAS_SOURCES",
    "cas_attributes",
    "cas_evaluation_subsets",
    "cas_sampler",
    "cas_scores",
    "cas_weights",
]

#: Where attributes come from: ``"scores"`` (probabilities such as MONET scores, binarised at a
#: threshold), ``"binary"`` (hard 0/1 columns such as CelebA attributes), ``"true"`` (the
#: synthetic benchmark's ``true_*`` presence columns) or ``"columns"`` (given columns, any
#: hashable values, used as they are).
CAS_SOURCES = ("scores", "binary", "true", "columns")
_DEFAULT_PREFIX = {"scores": "MONET_", "true": "true_"}
#: Metadata columns that ``metadata="auto"`` composes into CAS beside the descriptors, each a
#: secondary attribute of its own (the CAS paper's primary attributes): column -> bin edges for
#: numeric columns (age, in :data:`~semcov_data.AGE_BINS`), None for categorical ones. The
#: ISIC archive's ``anatom_site_general`` stands in for ``site`` when a table has no ``site``.
CAS_METADATA_COLUMNS: dict[str, tuple[float, ...] | None] = {
    "site": None,
    "skin_tone_class": None,
    "sex": None,
    "age_approx": AGE_BINS,
}
_SITE_ALIAS = "anatom_site_general"


def _unwrap(data: Any) -> tuple[pd.DataFrame, SampleTable | None]:
    """The sample frame of a SampleTable, a dataset holding one (``.table``) or a DataFrame."""
    table = getattr(data, "table", None) if not isinstance(data, SampleTable) else data
    if isinstance(table, SampleTable):
        return table.frame, table
    if isinstance(data, pd.DataFrame):
        return data, None
    raise TypeError(
        "data must be a SampleTable, a SemCovDataset or a pandas DataFrame, "
        f"got {type(data).__name__}"
    )


def _attribute_columns(
    frame: pd.DataFrame, table: SampleTable | None, source: str, columns: Sequence[str] | None
) -> list[str]:
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise TypeError(f"columns must be a sequence of column names, got {columns!r}")
        names = list(columns)
    elif source == "true":
        names = [c for c in frame.columns if str(c).startswith("true_")]
    elif source == "columns":
        raise ValueError("columns must be given for source='columns'")
    elif table is not None:
        names = list(table.descriptor_names)
    elif source == "scores":
        names = [c for c in frame.columns if str(c).startswith("MONET_")]
    else:
        raise ValueError("columns must be given for source='binary' on a DataFrame")
    if not names:
        prefix = _DEFAULT_PREFIX.get(source, "")
        raise ValueError(
            f"columns: no attribute columns for source={source!r} "
            f"(looked for columns starting with {prefix!r}); pass columns=[...]"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"columns must not repeat a name, got {names}")
    require_columns(frame, names, "data")
    return names


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values)
    if bad.any():
        examples = frame.loc[bad, column].head(5).tolist()
        raise ValueError(
            f"data: attribute column {column!r} has {int(bad.sum())} missing or non-numeric "
            f"value(s), e.g. {examples}; fill them first"
        )
    return values


def _metadata_columns(
    frame: pd.DataFrame, metadata: str | Sequence[str] | None, taken: Sequence[str]
) -> list[str]:
    """The metadata columns to compose: ``"auto"`` picks those of CAS_METADATA_COLUMNS present."""
    if metadata is None:
        return []
    if isinstance(metadata, str):
        if metadata != "auto":
            raise ValueError(
                f"metadata must be 'auto', None or a sequence of column names, got {metadata!r}"
            )
        names = [c for c in CAS_METADATA_COLUMNS if c in frame.columns]
        if "site" not in frame.columns and _SITE_ALIAS in frame.columns:
            names.insert(0, _SITE_ALIAS)
    else:
        if not all(isinstance(c, str) for c in metadata):
            raise TypeError(f"metadata must be a sequence of column names, got {metadata!r}")
        names = list(dict.fromkeys(metadata))
        require_columns(frame, names, "data (metadata)")
    return [c for c in names if c not in taken]


def cas_attributes(
    data: Any,
    source: str = "scores",
    *,
    columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    metadata: str | Sequence[str] | None = "auto",
) -> pd.DataFrame:
    """The categorical attributes CAS is computed from, one column per attribute.

    Paper: every image gets one secondary attribute per primary attribute (a CLIP dictionary
    picks it) from 20 primary attributes; here: every descriptor is a primary attribute with two
    secondary values, present (1) or absent (0), unless ``source="columns"`` passes richer
    categorical columns through, and the metadata columns (site, skin tone, sex, age bin) are
    primary attributes too, their values (empty cells: ``"unknown"``; age: its bin) the
    secondary ones. With 7 descriptors alone CAS takes 8 values and the sampling weights span
    only 2.3×; the metadata widen both.

    Args:
        data: a :class:`~semcov_data.SampleTable`, a :class:`~semcov_data.SemCovDataset` or a
            DataFrame with one row per sample.
        source: one of :data:`CAS_SOURCES`. ``"scores"``: probabilities in [0, 1] binarised as
            ``score >= threshold`` (default columns: the table's descriptors, or a frame's
            ``MONET_*`` columns). ``"binary"``: hard 0/1 values (default: the table's
            descriptors, e.g. CelebA). ``"true"``: the synthetic benchmark's 0/1 ``true_*``
            columns. ``"columns"``: the named columns, any values, used as they are.
        columns: attribute columns; overrides the defaults above.
        threshold: binarisation threshold of ``"scores"``, in [0, 1].
        metadata: metadata columns composed beside them: ``"auto"`` (default) those of
            :data:`CAS_METADATA_COLUMNS` the data has, a sequence of column names (an
            ``age_approx`` column is binned), or ``None`` for the attribute columns alone.

    Returns:
        A DataFrame of shape (N, A) with a fresh 0..N-1 index: int64 0/1 values, or the
        columns' own values for ``source="columns"``, then the metadata columns as text.

    Example:
        >>> frame = pd.DataFrame({"MONET_hair": [0.9, 0.2], "MONET_pen": [0.5, 0.49]})
        >>> cas_attributes(frame).to_numpy().tolist()
        [[1, 1], [0, 0]]
        >>> frame["site"], frame["age_approx"] = ["arm", None], [35, 80]
        >>> cas_attributes(frame).to_numpy().tolist()
        [[1, 1, 'arm', '30-44'], [0, 0, 'unknown', '75+']]
    """
    check_choice(source, "source", CAS_SOURCES)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise TypeError(f"threshold must be a number, got {threshold!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    frame, table = _unwrap(data)
    if len(frame) == 0:
        raise ValueError("data has no rows")
    names = _attribute_columns(frame, table, source, columns)
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name in names:
        if source == "columns":
            values = frame[name]
            if values.isna().any():
                raise ValueError(
                    f"data: attribute column {name!r} has {int(values.isna().sum())} missing "
                    "value(s); fill them first"
                )
            out[name] = values.to_numpy()
            continue
        values = _numeric(frame, name)
        if source == "scores":
            if (values < 0).any() or (values > 1).any():
                raise ValueError(
                    f"data: score column {name!r} must hold probabilities in [0, 1], "
                    f"got values in [{values.min():g}, {values.max():g}]"
                )
            out[name] = (values >= threshold).astype(np.int64)
        else:
            if not np.isin(values, (0.0, 1.0)).all():
                odd = sorted(set(values[~np.isin(values, (0.0, 1.0))].tolist()))[:5]
                raise ValueError(
                    f"data: column {name!r} must hold hard 0/1 values for source={source!r}, "
                    f"got {odd}; use source='scores' for probabilities or source='columns' for "
                    "other categorical codes"
                )
            out[name] = values.astype(np.int64)
    for name in _metadata_columns(frame, metadata, names):
        bins = CAS_METADATA_COLUMNS.get(name)
        text = subgroup_labels(frame, name, bins=None if bins is None else {name: bins})
        out[name] = text.to_numpy(dtype=object)
    return out


def _labels(frame: pd.DataFrame, table: SampleTable | None, labels: Any) -> np.ndarray:
    if labels is not None:
        array = np.asarray(labels)
        if array.ndim != 1 or len(array) != len(frame):
            raise ValueError(f"labels must have shape ({len(frame)},), got {np.shape(labels)}")
        return array
    if table is not None:
        return table.labels
    if "label" in frame.columns:
        return frame["label"].to_numpy()
    raise ValueError(
        "labels: the DataFrame has no 'label' column; pass labels=... (CAS ranks attribute "
        "values within each class)"
    )


def cas_scores(
    data: Any,
    source: str = "scores",
    *,
    columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    labels: Any = None,
    tie_method: str = "min",
    metadata: str | Sequence[str] | None = "auto",
    reference: Any = None,
    reference_labels: Any = None,
) -> np.ndarray:
    """CAS score of every sample: the sum over attributes of its value's frequency rank within
    its class (most frequent value = 1), from :func:`cas_attributes`.

    Args:
        data, source, columns, threshold, metadata: as in :func:`cas_attributes`.
        labels: class of each sample (N,); default the table's labels or a frame's ``label``
            column.
        tie_method: ranking of equally frequent values (see
            :func:`semcov_metrics.compositional_attribute_scarcity`).
        reference: data whose frequencies rank the values (for example the training split),
            with the same attribute and metadata columns; default ``data`` itself.
        reference_labels: class of each reference sample; default as for ``labels``.

    Returns:
        Scores as float64, shape (N,); higher means a scarcer attribute combination.

    Example:
        >>> frame = pd.DataFrame({"true_hair": [1, 1, 0, 1], "label": [0, 0, 0, 1]})
        >>> cas_scores(frame, "true").tolist()
        [1.0, 1.0, 2.0, 1.0]
    """
    frame, table = _unwrap(data)
    attributes = cas_attributes(
        data, source, columns=columns, threshold=threshold, metadata=metadata
    )
    class_of = _labels(frame, table, labels)
    if reference is None:
        return compositional_attribute_scarcity(attributes, class_of, tie_method=tie_method)
    reference_frame, reference_table = _unwrap(reference)
    described = list(attributes.columns)
    attribute_names = [
        c for c in described if c in _attribute_columns(frame, table, source, columns)
    ]
    known = cas_attributes(
        reference,
        source,
        columns=attribute_names,
        threshold=threshold,
        metadata=[c for c in described if c not in attribute_names],
    )
    return compositional_attribute_scarcity(
        attributes,
        class_of,
        tie_method=tie_method,
        reference=known,
        reference_labels=_labels(reference_frame, reference_table, reference_labels),
    )


def cas_weights(
    data: Any,
    source: str = "scores",
    *,
    power: float = 1.2,
    columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    labels: Any = None,
    balance_classes: bool = False,
    metadata: str | Sequence[str] | None = "auto",
) -> np.ndarray:
    """Sampling probability of every sample from its CAS score: ``p_i = r_i^b / Σ_k r_k^b``.

    CAS ranks attribute values within each class (paper, §3), so a sample's scarcity is
    measured against its own class. Paper: one pool over all M samples; here that is the
    default, and ``balance_classes=True`` instead gives every class the same total probability,
    spread within the class by ``r^b`` (for data as imbalanced as MILK10k, 1:10).

    Args:
        data, source, columns, threshold, labels, metadata: as in :func:`cas_scores`.
        power: the exponent b > 0 (paper: 1.2); larger favours scarce samples more.
        balance_classes: equal total probability per class.

    Returns:
        Probabilities summing to 1, shape (N,).

    Example:
        >>> frame = pd.DataFrame({"true_hair": [1, 1, 0], "label": [0, 0, 0]})
        >>> cas_weights(frame, "true", power=1.0).tolist()
        [0.25, 0.25, 0.5]
    """
    if not isinstance(balance_classes, bool):
        raise TypeError(f"balance_classes must be a bool, got {balance_classes!r}")
    frame, table = _unwrap(data)
    class_of = _labels(frame, table, labels)
    scores = cas_scores(
        data, source, columns=columns, threshold=threshold, labels=class_of, metadata=metadata
    )
    weights = cas_sampling_weights(scores, power=power)
    if balance_classes:
        codes = pd.factorize(pd.Series(class_of).astype(str))[0]
        class_mass = np.bincount(codes, weights=weights)
        weights = weights / (class_mass[codes] * len(class_mass))
    return weights


def cas_sampler(
    data: Any,
    source: str = "scores",
    *,
    power: float = 1.2,
    columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    labels: Any = None,
    balance_classes: bool = False,
    num_samples: int | None = None,
    seed: int | None = None,
    metadata: str | Sequence[str] | None = "auto",
) -> WeightedRandomSampler:
    """A ``WeightedRandomSampler`` (with replacement) drawing samples by CAS probability (see
    :func:`cas_weights`): Algorithm 1, steps 1–2.

    Args:
        data, source, power, columns, threshold, labels, balance_classes, metadata: as in
            :func:`cas_weights`.
        num_samples: draws per epoch; default the number of samples.
        seed: seeds the sampler's own generator (same seed, same order).
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    if num_samples is not None and (
        isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer)
    ):
        raise TypeError(f"num_samples must be an int or None, got {num_samples!r}")
    weights = cas_weights(
        data,
        source,
        power=power,
        columns=columns,
        threshold=threshold,
        labels=labels,
        balance_classes=balance_classes,
        metadata=metadata,
    )
    return _sampler(weights, num_samples, seed)


def cas_evaluation_subsets(
    data: Any,
    source: str = "scores",
    *,
    columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    labels: Any = None,
    fractions: Sequence[float] = (0.3, 0.3, 0.4),
    metadata: str | Sequence[str] | None = "auto",
    train: Any = None,
    train_labels: Any = None,
    seed: int | None = 0,
) -> np.ndarray:
    """Split a test table into ``"low"`` / ``"middle"`` / ``"high"`` CAS subsets.

    The paper ranks the test samples by CAS: the 30 % lowest are ``low``, the next 30 %
    ``middle`` and the 40 % highest ``high``. The CAS of a test sample is measured against the
    frequencies of ``train`` (per class): the scarcity a model met in training, which is what
    the paper's claim (rare combinations are learnt worse) is about; paper: frequencies
    "within each class" of the dataset, the split not stated; here: the training split when
    ``train`` is given (the trainer always gives it), else ``data`` itself. Samples with equal
    CAS are ordered by a permutation seeded by ``seed`` (``None``: row order).

    Args:
        data, source, columns, threshold, labels, metadata: as in :func:`cas_scores`.
        fractions: shares of low, middle and high (see :func:`semcov_metrics.cas_subsets`).
        train: the training split (SampleTable, SemCovDataset or DataFrame), the reference of
            the frequencies.
        train_labels: its classes; default its table's labels or ``label`` column.
        seed: seed of the tie-break.

    Returns:
        One of ``"low"``, ``"middle"``, ``"high"`` per sample, object array of shape (N,).

    Example:
        >>> train = pd.DataFrame({"kind": ["a", "a", "a", "b"], "label": 0})
        >>> test = pd.DataFrame({"kind": ["b", "b", "b", "b", "a", "c"], "label": 0})
        >>> cas_evaluation_subsets(test, "columns", columns=["kind"], train=train).tolist()
        ['middle', 'middle', 'high', 'high', 'low', 'high']
    """
    scores = cas_scores(
        data,
        source,
        columns=columns,
        threshold=threshold,
        labels=labels,
        metadata=metadata,
        reference=train,
        reference_labels=train_labels,
    )
    return cas_subsets(scores, fractions, seed=seed)
