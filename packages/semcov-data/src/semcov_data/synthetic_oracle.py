"""The synthetic benchmark's oracle ceiling: the test AUC of a model given the true scene.

An image model can at best recover what the renderer drew: the class cue (border irregularity,
asymmetry and colour variegation after the descriptors' effects), the descriptors that are
present, the site and the skin tone. A classifier fitted on those parameters of the training
lesions and scored on the test lesions gives the AUC no image model should be expected to beat
on that split. The two classes' cue ranges do not overlap before the descriptors act, so the
ceiling is at or near 1 (0.97–1.00, semcov-data README, "Calibration"): the gap of an image model
to it is in reading the cue off the pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from semcov_metrics import UndefinedMetricWarning

__all__ = ["ORACLE_FEATURES", "ORACLE_MODELS", "oracle_auc", "oracle_scores", "read_scenes"]

#: Numeric scene parameters the oracle sees (the site and skin tone are added one-hot).
ORACLE_FEATURES = (
    "irregularity",
    "asymmetry",
    "variegation",
    "true_ulceration_crust",
    "true_hair",
    "true_vessels",
    "true_erythema",
    "true_pigmented",
    "true_gel",
    "true_pen",
)
#: ``"boosting"``: scikit-learn's HistGradientBoostingClassifier (the cue's class ranges are
#: uniform, so the Bayes boundary is not linear); ``"logistic"``: standardised logistic regression.
ORACLE_MODELS = ("boosting", "logistic")
_CATEGORICAL = ("site", "skin_tone_class")


def read_scenes(root: str | Path) -> pd.DataFrame:
    """The scene parameters of a benchmark written by
    :func:`~semcov_data.synthetic.write_synthetic`: one row per lesion (``lesion_id``,
    ``class_name``, site, skin tone, ``true_*``, the cue parameters as drawn and as rendered).

    Raises:
        ValueError: `root` holds no ``synthetic_scenes.csv`` (not a synthetic benchmark, or one
            written before the scene parameters were exported).
    """
    from semcov_data.synthetic import SCENES_FILE

    path = Path(root) / SCENES_FILE
    if not path.is_file():
        raise ValueError(
            f"root: {str(root)!r} has no {SCENES_FILE}; regenerate the benchmark with "
            "semcov_data.synthetic.write_synthetic"
        )
    return pd.read_csv(path)


def _design(
    scenes: pd.DataFrame, features: Sequence[str], name: str, categories: dict
) -> np.ndarray:
    missing = [c for c in (*features, *_CATEGORICAL, "class_name") if c not in scenes.columns]
    if missing:
        raise ValueError(
            f"{name}: missing scene columns {missing}; pass rows of read_scenes(root) "
            "(synthetic_scenes.csv)"
        )
    parts = [scenes[list(features)].to_numpy(np.float64)]
    for column in _CATEGORICAL:
        values = scenes[column].astype(str).to_numpy()
        parts.append((values[:, None] == np.asarray(categories[column])[None, :]).astype(float))
    return np.concatenate(parts, axis=1)


def oracle_scores(
    train_scenes: pd.DataFrame,
    test_scenes: pd.DataFrame,
    *,
    model: str = "boosting",
    features: Sequence[str] = ORACLE_FEATURES,
    seed: int = 0,
) -> np.ndarray:
    """Melanoma probability of each test lesion from a classifier fitted on the training scenes.

    Args:
        train_scenes: rows of :func:`read_scenes` (the training split's lesions).
        test_scenes: rows of :func:`read_scenes` (the test split's lesions).
        model: one of :data:`ORACLE_MODELS`.
        features: numeric scene columns (site and skin tone are always added, one-hot).
        seed: the boosting model's random state.

    Returns:
        (N_test,) float64 probabilities.

    Raises:
        ValueError: unknown `model`, missing columns, or a training split with one class only.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model not in ORACLE_MODELS:
        raise ValueError(f"model must be one of {', '.join(ORACLE_MODELS)}, got {model!r}")
    features = list(features)
    for name, frame in (("train_scenes", train_scenes), ("test_scenes", test_scenes)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    categories = {
        column: sorted(set(train_scenes[column].astype(str)) | set(test_scenes[column].astype(str)))
        for column in _CATEGORICAL
        if column in train_scenes.columns and column in test_scenes.columns
    }
    x_train = _design(train_scenes, features, "train_scenes", categories)
    x_test = _design(test_scenes, features, "test_scenes", categories)
    y_train = (train_scenes["class_name"] == "MEL").to_numpy(int)
    if y_train.min() == y_train.max():
        raise ValueError("train_scenes: the oracle needs both classes in the training split")
    if model == "boosting":
        classifier = HistGradientBoostingClassifier(random_state=seed)
    else:
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(x_train, y_train)
    return classifier.predict_proba(x_test)[:, 1]


def oracle_auc(
    train_scenes: pd.DataFrame,
    test_scenes: pd.DataFrame,
    *,
    model: str = "boosting",
    features: Sequence[str] = ORACLE_FEATURES,
    seed: int = 0,
) -> float:
    """Test ROC-AUC of the oracle (:func:`oracle_scores`): the benchmark's ceiling on a split.

    Returns nan with :class:`semcov_metrics.UndefinedMetricWarning` when the test lesions hold
    one class only.
    """
    from sklearn.metrics import roc_auc_score

    scores = oracle_scores(train_scenes, test_scenes, model=model, features=features, seed=seed)
    y_test = (test_scenes["class_name"] == "MEL").to_numpy(int)
    if y_test.min() == y_test.max():
        warnings.warn(
            "oracle_auc: the test scenes hold one class only; AUC is undefined",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(roc_auc_score(y_test, scores))
