"""The words around an audit: the run's context (what model, which data, which versions) and a
model card filled from ``config.json`` that the user's YAML card overrides field by field."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..rundir import provenance
from .run_inputs import AuditInputs

__all__ = ["audit_context", "default_card", "load_user_card", "merge_card", "page_context"]

#: What the audit is for, when the user's card does not say.
INTENDED_USE = (
    "Research audit of semantic coverage fairness: how the model's errors on test relate to "
    "the training coverage of (class, descriptor, subgroup) groups. Not a clinical validation."
)


def _versions(versions: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in versions.items() if value is not None)


def audit_context(inputs: AuditInputs) -> dict[str, Any]:
    """One line per fact about the audited run (text or numbers), for the report's header.

    Keys: ``model`` (the table row), ``method``, ``backbone``, ``dataset``, ``modality``,
    ``subgroup``, ``target``, ``n_train``, ``n_val``, ``n_test``, ``fold``, ``seed``,
    ``decision_rule``, ``decision_threshold``, ``training_source``, ``run_dir``,
    ``trained_with`` and ``audited_with`` (package versions), ``git_commit``.
    """
    config, resolved, threshold = inputs.config, inputs.resolved, inputs.threshold
    commit = inputs.git.get("commit")
    if commit and inputs.git.get("dirty"):
        commit = f"{commit} (uncommitted changes)"
    return {
        "model": resolved.get("table_row", config.method),
        "method": config.method,
        "backbone": resolved.get("backbone"),
        "dataset": config.dataset,
        "modality": resolved.get("modality"),
        "subgroup": resolved.get("subgroup"),
        "target": resolved.get("target"),
        "n_train": len(inputs.train),
        "n_val": resolved.get("n_val"),
        "n_test": len(inputs.test),
        "fold": config.fold,
        "seed": config.seed,
        "decision_rule": "argmax" if threshold.uses_argmax else threshold.rule,
        "decision_threshold": None if threshold.uses_argmax else threshold.value,
        "training_source": inputs.training_source,
        "run_dir": str(inputs.run_dir),
        "trained_with": _versions(inputs.versions),
        "audited_with": _versions(provenance()["versions"]),
        "git_commit": commit,
    }


def page_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`audit_context` as the HTML page shows it: the model, the training and the test data
    in words first (the summary states them), then every fact of the context (listed under the
    page's audit details).

    Example:
        >>> context = {"model": "ERM", "method": "erm", "backbone": "resnet18",
        ...     "dataset": "synthetic", "modality": "dermoscopic", "n_train": 112, "n_test": 32,
        ...     "fold": 0, "seed": 0, "decision_rule": "balanced", "decision_threshold": 0.49,
        ...     "training_source": "train_descriptors.parquet"}
        >>> page = page_context(context)
        >>> page["train"]
        '112 images of the synthetic dermoscopic training split (fold 0, seed 0)'
        >>> page["test"]
        '32 test images; decisions at threshold 0.490 (rule: balanced)'
    """
    model = str(context["model"])
    named = [f"{key} {context[key]}" for key in ("method", "backbone") if context.get(key)]
    if named:
        model += f" ({', '.join(named)})"
    data = " ".join(str(context[key]) for key in ("dataset", "modality") if context.get(key))
    train = f"{context['n_train']:,} images of the {data} training split"
    train += f" (fold {context.get('fold')}, seed {context.get('seed')})"
    threshold = context.get("decision_threshold")
    decisions = (
        "decisions by argmax"
        if threshold is None
        else f"decisions at threshold {float(threshold):.3f} (rule: {context.get('decision_rule')})"
    )
    test = f"{context['n_test']:,} test images; {decisions}"
    rest = {key: value for key, value in context.items() if key != "model"}
    return {"model": model, "train": train, "test": test, **rest}


def default_card(inputs: AuditInputs) -> dict[str, Any]:
    """A model card from the run's ``config.json``: ``intended_use``, ``data``,
    ``evaluation`` (with the model) and ``limitations``, each text or a list of texts (the
    fields of ``semcov_metrics.model_card.ModelCard``)."""
    config, resolved = inputs.config, inputs.resolved
    limitations = [
        "Coverage is the mean descriptor score per (class, subgroup) of the training split; "
        "descriptor scores are model outputs, not ground truth.",
        "Groups with little test support are excluded from CDI (see the per-group table).",
    ]
    if config.dataset == "synthetic":
        limitations.insert(
            0,
            "Synthetic data: a procedural benchmark with planted coverage imbalance; the numbers "
            "say nothing about real patients.",
        )
    return {
        "intended_use": INTENDED_USE,
        "data": [
            f"dataset: {config.dataset}",
            f"modality: {resolved.get('modality')}",
            f"subgroups: {resolved.get('subgroup')}",
            f"target: {resolved.get('target')}",
            "classes: " + ", ".join(map(str, inputs.axes.classes)),
            "descriptors: " + ", ".join(map(str, inputs.axes.descriptor_names)),
            f"training samples: {len(inputs.train):,}",
        ],
        "evaluation": [
            f"model: {resolved.get('table_row', config.method)} (method {config.method}, "
            f"backbone {resolved.get('backbone')}, preset {config.preset})",
            f"test samples: {len(inputs.test):,}; validation samples: {resolved.get('n_val')}",
            f"split: fold {config.fold} (split seed {config.split_seed}), training seed "
            f"{config.seed}",
            f"decision rule: {inputs.results.get('decision_rule')}",
        ],
        "limitations": limitations,
    }


def merge_card(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with every field of `override` replacing its own; nested mappings merge field by
    field, anything else (text, lists) is replaced whole.

    Example:
        >>> merge_card({"data": {"dataset": "synthetic", "n": 5}, "owner": "x"},
        ...            {"data": {"n": 7}, "contact": "y"})
        {'data': {'dataset': 'synthetic', 'n': 7}, 'owner': 'x', 'contact': 'y'}
    """
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_card(current, value)
        else:
            merged[key] = value
    return merged


def load_user_card(card: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The user's card: a mapping as it is, or a YAML file holding one.

    Raises:
        ValueError: the file is missing, is not YAML, or does not hold a mapping.
    """
    if isinstance(card, Mapping):
        return dict(card)
    # Imported by name: PyYAML ships no type information and this workspace has no stubs.
    yaml = importlib.import_module("yaml")
    path = Path(card).expanduser()
    if not path.is_file():
        raise ValueError(f"card: {str(path)!r} is not a file")
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"card: {str(path)!r} is not valid YAML ({error})") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise ValueError(
            f"card: {str(path)!r} must hold a mapping of fields, got {type(loaded).__name__}"
        )
    return dict(loaded)
