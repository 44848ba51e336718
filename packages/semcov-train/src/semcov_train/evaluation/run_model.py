"""A trained run rebuilt from its directory: its config, its model with the best weights, its
training split and its decision threshold (what ``predict`` and ``audit`` start from)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import nn

from .._registry import lookup
from ..config import TrainConfig
from ..inputs.datasets import AxisCounts, load_split
from ..methods.registry import METHODS
from ..rundir import (
    BEST_CHECKPOINT,
    CHECKPOINT_DIR,
    CONFIG_FILE,
    RESULTS_FILE,
    read_config,
    read_results,
)
from ..runtime.checkpoint import load_checkpoint
from .threshold import DecisionThreshold

__all__ = ["RunAxes", "build_run_model", "load_run_config", "run_threshold", "training_split"]


def load_run_config(
    run_dir: str | Path, *, require_checkpoint: bool = True
) -> tuple[TrainConfig, dict, dict]:
    """``(config, resolved, results)`` of a finished or running run directory.

    ``results`` is ``{}`` while the run has no ``results.json``; ``config.pretrained`` is
    False (the weights come from the checkpoint: nothing is downloaded to rebuild the network).

    Args:
        run_dir: the run directory.
        require_checkpoint: raise when ``checkpoints/best.pt`` is missing.

    Raises:
        ValueError: the folder is not a run directory or (with `require_checkpoint`) has no
            best checkpoint yet.
    """
    run = Path(run_dir).expanduser()
    if not (run / CONFIG_FILE).is_file():
        raise ValueError(f"run: {str(run)!r} is not a run directory (no {CONFIG_FILE})")
    if require_checkpoint and not (run / CHECKPOINT_DIR / BEST_CHECKPOINT).is_file():
        raise ValueError(f"run: {str(run)!r} has no {CHECKPOINT_DIR}/{BEST_CHECKPOINT} yet")
    stored = read_config(run)
    known = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in stored.settings.items() if k in known}
    values["pretrained"] = False
    results = read_results(run) if (run / RESULTS_FILE).is_file() else {}
    return TrainConfig(**values), stored.resolved, results


@dataclass(frozen=True)
class RunAxes(AxisCounts):
    """The class, descriptor and subgroup axes of a run (``config.json``'s ``resolved``): what
    ``build_model`` reads.

    Attributes:
        classes: class names, in code order.
        descriptor_names: the K descriptor names.
        subgroup_values: the subgroup values.
    """

    classes: tuple[str, ...]
    descriptor_names: tuple[str, ...]
    subgroup_values: tuple[str, ...]

    @classmethod
    def from_resolved(cls, resolved: dict) -> RunAxes:
        """The axes stored in ``config.json``'s ``resolved`` (``classes``, ``descriptors``,
        ``subgroup_values``)."""
        return cls(
            tuple(resolved["classes"]),
            tuple(resolved["descriptors"]),
            tuple(resolved["subgroup_values"]),
        )


def build_run_model(
    config: TrainConfig, axes: RunAxes, run_dir: str | Path, device: torch.device
) -> nn.Module:
    """The run's model with the weights of ``checkpoints/best.pt``, on `device`, in eval mode.

    Raises:
        ValueError: the method cannot be rebuilt (an encoder whose weights folder is gone).
    """
    method = lookup(METHODS, config.method, "method")
    try:
        model = method.build_model(config, axes, method)
    except AttributeError as error:
        raise ValueError(
            f"run: method {config.method!r} cannot be rebuilt from its run directory ({error})"
        ) from error
    best = load_checkpoint(Path(run_dir) / CHECKPOINT_DIR / BEST_CHECKPOINT, map_location="cpu")
    model.load_state_dict(best["model"])
    return model.to(device).eval()


def training_split(config: TrainConfig):
    """The run's training part (a :class:`~semcov_data.SampleTable`), rebuilt from its own
    data exactly as the trainer split it (fold, independent test draw, shuffled control).

    Raises:
        ValueError, FileNotFoundError: the data is not where ``config.json`` says.
    """
    return load_split(config).tables["train"]


def run_threshold(results: dict, num_classes: int) -> DecisionThreshold:
    """The decision rule a finished run applied on test, from its ``results.json``.

    ``decision_threshold`` and ``decision_rule`` give the value and the rule; the recorded
    convention says whether the run fell back to argmax (the ``argmax`` rule, or a validation
    split with one class). A run without a threshold (more than two classes, or written
    before thresholds) decides by argmax.

    Example:
        >>> rule = run_threshold({"decision_threshold": 0.3, "decision_rule": "balanced"}, 2)
        >>> rule.value, rule.uses_argmax
        (0.3, False)
        >>> run_threshold({}, 2).uses_argmax
        True
    """
    value = results.get("decision_threshold")
    rule = str(results.get("decision_rule", "argmax"))
    if num_classes != 2 or value is None:
        return DecisionThreshold(rule, None, "argmax (no threshold in results.json)", True)
    convention = str((results.get("conventions") or {}).get("decision_threshold", ""))
    argmax = rule == "argmax" or convention.startswith(f"{rule}: argmax")
    return DecisionThreshold(rule, float(value), convention or f"{rule} from results.json", argmax)
