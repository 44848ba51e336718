"""Input conversion and validation shared by every metric: one place that names bad arguments."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from semcov_metrics.exceptions import UndefinedMetricWarning

__all__: list[str] = []


def _is_torch_tensor(value: Any) -> bool:
    # Recognise tensors by their type's module so that torch is never imported here.
    module = type(value).__module__
    return module.startswith("torch") and hasattr(value, "detach")


def to_numpy(value: Any, name: str) -> np.ndarray:
    """Convert numpy arrays, lists, pandas objects and torch tensors to a numpy array."""
    if value is None:
        raise TypeError(f"{name} is required, got None")
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}")
    if _is_torch_tensor(value):
        tensor = value.detach().cpu()
        if str(tensor.dtype) in ("torch.bfloat16", "torch.float16"):
            tensor = tensor.float()
        return tensor.numpy()
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        return value.to_numpy()
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{name} must be array-like: {error}") from None


def as_float_array(value: Any, name: str, *, ndim: int | tuple[int, ...]) -> np.ndarray:
    """A finite float64 array with the given number of dimensions."""
    array = to_numpy(value, name)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in allowed:
        expected = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {expected}, got an array of shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")


def check_probabilities(array: np.ndarray, name: str) -> None:
    """Probabilities must lie in [0, 1]; NaN and inf are rejected by the same two reductions."""
    low, high = array.min(), array.max()
    # min/max propagate NaN, so one comparison rejects NaN, inf and out-of-range values.
    if not (low >= 0.0 and high <= 1.0):
        if np.isnan(array).any():
            raise ValueError(f"{name} contains NaN values; expected probabilities in [0, 1]")
        raise ValueError(
            f"{name} must contain probabilities in [0, 1], got values in [{low:g}, {high:g}]"
        )


#: Largest |Σ_k p_ik − 1| accepted for a row of class probabilities. scikit-learn's
#: multi-class ``roc_auc_score`` uses ``np.allclose`` (≈ 1e-5); a float16 softmax row is off by
#: up to ~1e-3, a float32 one by ~1e-7 · n_classes. 1e-3 accepts both, yet refuses logits,
#: per-class sigmoid scores and unnormalised counts, and moves an ECE by at most 1e-3.
ROW_SUM_TOLERANCE = 1e-3


def check_rows_sum_to_one(matrix: np.ndarray, name: str) -> None:
    """Rows of an (N, n_classes) probability matrix must sum to 1 within ROW_SUM_TOLERANCE."""
    deviation = np.abs(matrix.sum(axis=1) - 1.0)
    off = deviation > ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(deviation))
        raise ValueError(
            f"{name} must hold class probabilities whose rows sum to 1 (within "
            f"{ROW_SUM_TOLERANCE:g}); {int(off.sum())} of {len(matrix)} rows do not, e.g. row "
            f"{row} sums to {matrix[row].sum():.6g}. Apply a softmax to logits, or pass the "
            "positive-class probability (N,) for a binary task"
        )


def as_descriptor_matrix(
    value: Any, name: str, descriptor_names: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """An (N, K) float64 matrix of descriptor probabilities and the K descriptor names."""
    names_from_frame = list(map(str, value.columns)) if isinstance(value, pd.DataFrame) else None
    array = as_float_array(value, name, ndim=(1, 2))
    if array.ndim == 1:
        array = array[:, None]
    check_probabilities(array, name)
    return array, descriptor_axis(descriptor_names, names_from_frame, array.shape[1], name)


def descriptor_axis(
    given: Sequence[str] | None, from_frame: list[str] | None, n_descriptors: int, name: str
) -> list[str]:
    """The K descriptor names: `given`, else a DataFrame's columns, else ``d0 … d{K-1}``;
    a wrong count or a repeated name is refused (`name`: the matrix's argument)."""
    if given is None:
        names = from_frame or [f"d{k}" for k in range(n_descriptors)]
    else:
        names = [str(n) for n in given]
        if len(names) != n_descriptors:
            raise ValueError(
                f"descriptor_names has {len(names)} names but {name} has {n_descriptors} columns"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"descriptor names must be unique, got {names}")
    return names


def as_labels(value: Any, name: str) -> np.ndarray:
    """A 1-D array of hashable labels without missing values."""
    array = to_numpy(value, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if array.dtype.kind in "fcOUS" and pd.isna(array).any():
        raise ValueError(
            f"{name} contains missing values (NaN/None); fill them explicitly, "
            "for example with 'unknown'"
        )
    return array


def integer_labels(value: Any, name: str) -> np.ndarray:
    """Class labels as non-negative integers, shape (N,)."""
    array = as_labels(value, name)
    if array.dtype == bool:
        return array.astype(np.intp)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating) and (
        not np.isfinite(array).all() or (array != np.round(array)).any()
    ):
        raise ValueError(f"{name} must hold integer class labels, got non-integer values")
    if array.min() < 0:
        raise ValueError(f"{name} must hold class labels >= 0, got {array.min()}")
    return array.astype(np.intp)


def class_probabilities(probabilities: np.ndarray, labels: np.ndarray, name: str) -> np.ndarray:
    """An (N, T) probability matrix; a 1-D input is P(class 1) of a binary task. Rows of a
    2-D input must sum to 1 within :data:`ROW_SUM_TOLERANCE` (as scikit-learn requires of
    multi-class ``roc_auc_score``)."""
    if probabilities.ndim == 1:
        if labels.max() > 1:
            raise ValueError(
                f"{name} is 1-D (binary) but the labels go up to {labels.max()}; "
                "pass an (N, n_classes) matrix"
            )
        return np.stack([1.0 - probabilities, probabilities], axis=1)
    if probabilities.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 columns, got shape {probabilities.shape}")
    if labels.max() >= probabilities.shape[1]:
        raise ValueError(
            f"labels go up to {labels.max()} but {name} has only {probabilities.shape[1]} columns"
        )
    check_rows_sum_to_one(probabilities, name)
    return probabilities


def check_same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"inputs must have the same number of samples, got {described}")


def categories(given: Sequence[Any] | None, name: str, *observed: np.ndarray) -> list[Any]:
    """The categories of an axis: ``given`` (checked), or the sorted union of observed values."""
    if given is not None:
        values = to_numpy(given, name)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {values.shape}")
        result = [_python_scalar(v) for v in values.tolist()]
        if len(set(result)) != len(result):
            raise ValueError(f"{name} contains duplicates: {result}")
        return result
    return [_python_scalar(v) for v in _sorted_union(observed, name)]


def _sorted_union(observed: tuple[np.ndarray, ...], name: str) -> np.ndarray:
    if all(np.issubdtype(a.dtype, np.integer) for a in observed):
        return np.unique(np.concatenate([_integer_unique(a) for a in observed]))
    try:
        return np.unique(np.concatenate([pd.unique(a) for a in observed]))
    except TypeError:
        raise TypeError(
            f"values mix types that cannot be sorted; pass {name}= explicitly"
        ) from None


def _integer_unique(values: np.ndarray) -> np.ndarray:
    """Distinct integers; a bincount over a small range is much faster than hashing or sorting."""
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1024:
        return pd.unique(values)
    return np.flatnonzero(np.bincount(values - low)) + low


def encode(values: np.ndarray, name: str, cats: list[Any], cats_name: str) -> np.ndarray:
    """Integer codes of ``values`` within the list ``cats``; unknown values are an error."""
    codes = _integer_codes(values, cats)
    if codes is None:
        codes = pd.Index(cats).get_indexer(values)
    if (codes < 0).any():
        unknown = sorted({str(v) for v in values[codes < 0]})[:5]
        raise ValueError(
            f"{name} contains values not in {cats_name}: {unknown}; {cats_name} = {cats}"
        )
    return codes.astype(np.intp, copy=False)


def _integer_codes(values: np.ndarray, cats: list[Any]) -> np.ndarray | None:
    """Codes through a lookup table when values and categories are small-range integers."""
    if not np.issubdtype(values.dtype, np.integer):
        return None
    if not all(isinstance(c, int | np.integer) and not isinstance(c, bool) for c in cats):
        return None
    low = min(int(values.min()), min(cats))
    high = max(int(values.max()), max(cats))
    if high - low > 4 * len(values) + 1024:
        return None
    table = np.full(high - low + 1, -1, dtype=np.intp)
    table[np.asarray(cats, dtype=np.int64) - low] = np.arange(len(cats))
    return table[values - low]


def _python_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_threshold(value: Any, name: str, size: int) -> np.ndarray:
    """A threshold in [0, 1]: one for all descriptors, or one per descriptor."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name} must be a float or a sequence of floats, got {value!r}")
    array = to_numpy(value, name)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got {value!r}")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(size, float(array))
    if array.shape != (size,):
        raise ValueError(
            f"{name} must be a scalar or have one value per descriptor ({size}), "
            f"got shape {array.shape}"
        )
    if not (np.isfinite(array).all() and (array >= 0).all() and (array <= 1).all()):
        raise ValueError(f"{name} must lie in [0, 1], got {array.tolist()}")
    return array


def warn_undefined(message: str) -> float:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)
    return float("nan")
