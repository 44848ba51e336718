"""The oracle ceiling of a synthetic run: the test AUC of a model given the true scene parameters.

Uses the run's own split (fold, split seed, the independent test draw when
``synthetic_test_lesions > 0``): a classifier is fitted on the scene parameters of the training
lesions and scored on the test lesions (:func:`semcov_data.synthetic_oracle.oracle_auc`). The
scene is the same for both modalities, so the ceiling is too. Paper: no such row; here: the row
"Oracle (scene parameters)" of Table 1 on synthetic data, the AUC no image model should be
expected to beat on that split.
"""

from __future__ import annotations

from semcov_data.synthetic_oracle import oracle_auc, read_scenes

from ..inputs.sources import load_table
from ..inputs.split_parts import prepare_synthetic_parts, split_tables

__all__ = ["oracle_ceiling"]


def oracle_ceiling(config, *, model: str = "boosting") -> float:
    """Test ROC-AUC of the scene-parameter oracle on the split of `config`.

    Args:
        config: a :class:`~semcov_train.TrainConfig` with ``dataset="synthetic"``.
        model: ``"boosting"`` or ``"logistic"``
            (:data:`semcov_data.synthetic_oracle.ORACLE_MODELS`).

    Raises:
        ValueError: not the synthetic dataset, or a benchmark without exported scene parameters.
    """
    if config.dataset != "synthetic":
        raise ValueError(
            f"dataset: the oracle ceiling needs the synthetic benchmark's scene parameters, "
            f"got {config.dataset!r}"
        )
    config = config.replace(method="erm")  # the split does not depend on the method
    tables = split_tables(config, load_table(config))
    folders = prepare_synthetic_parts(config)
    roots = {"train": folders["pool"], "test": folders["test"]}
    scenes = {}
    for part, root in roots.items():
        frame = read_scenes(root)
        lesions = set(tables[part].frame["lesion_id"].astype(str))
        scenes[part] = frame[frame["lesion_id"].astype(str).isin(lesions)]
    return oracle_auc(scenes["train"], scenes["test"], model=model, seed=config.split_seed)
