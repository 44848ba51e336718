"""A grid of training runs declared as data: experiment × methods × modalities × folds × seeds,
with the config switches of every run, per-method/per-modality switches and an optional
learning-rate grid."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from semcov_train.config import TrainConfig, make_config

__all__ = ["GRID_FIELDS", "Grid", "Run", "lr_experiment", "parse_shard", "shard"]

#: The fields a grid sets for each of its runs (switches may not set them).
GRID_FIELDS = ("experiment", "method", "modality", "fold", "seed")
_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def _frozen_switches(switches: Mapping[str, Any] | Iterable[tuple[str, Any]], what: str):
    """Switches as a sorted tuple of (field, value) pairs, after checking the field names."""
    pairs = dict(switches.items() if isinstance(switches, Mapping) else switches)
    for name in pairs:
        if name not in _FIELD_NAMES:
            raise ValueError(f"{what}: {name!r} is not a TrainConfig field")
        if name in GRID_FIELDS:
            raise ValueError(f"{what}: {name!r} names the run; set it through the grid instead")
    return tuple(sorted(pairs.items()))


def lr_experiment(experiment: str, lr: float) -> str:
    """The experiment of one learning-rate candidate: ``table1`` at 2e-4 -> ``table1-lr0.0002``."""
    return f"{experiment}-lr{lr:g}"


@dataclass(frozen=True)
class Run:
    """One training run of a grid: its identity and the switches it adds to the preset.

    Attributes:
        experiment: the run's experiment (with ``-lr<value>`` when the grid tunes the lr).
        method: registry name (``erm``, ``semcovnet``, ...).
        modality: ``dermoscopic``, ``clinical`` or ``auto``.
        fold: cross-validation fold.
        seed: training seed.
        switches: sorted ``(field, value)`` pairs applied on top of the shared settings.
        group: the grid's experiment (the same for every lr candidate of a run).
    """

    experiment: str
    method: str
    modality: str
    fold: int
    seed: int
    switches: tuple[tuple[str, Any], ...] = ()
    group: str = ""

    @property
    def label(self) -> str:
        """``table1 erm clinical fold0 seed0``."""
        return f"{self.experiment} {self.method} {self.modality} fold{self.fold} seed{self.seed}"

    def config(self, preset: str, settings: Mapping[str, Any] | None = None) -> TrainConfig:
        """The run's TrainConfig: `preset`, then the shared `settings` (dataset, out, device,
        ...), then the run's switches and identity.

        Raises:
            ValueError, TypeError: a bad preset, field name or value (from :func:`make_config`).
        """
        values = dict(settings or {})
        values.update(self.switches)
        values.update(
            experiment=self.experiment,
            method=self.method,
            modality=self.modality,
            fold=self.fold,
            seed=self.seed,
        )
        return make_config(preset, **values)


@dataclass(frozen=True)
class Grid:
    """A grid of runs: every method × modality × fold × seed (× learning rate).

    Lists are stored as tuples and switch mappings as sorted pairs, so a grid is hashable and
    two equal declarations compare equal.

    Args:
        experiment: the experiment name (the first folder of every run directory).
        methods: registry names.
        modalities: ``dermoscopic``, ``clinical`` or ``auto`` (the dataset's only one).
        folds: fold numbers (``range(5)`` for the paper's five folds).
        seeds: training seeds.
        switches: TrainConfig fields set in every run (an ablation's switches).
        method_switches: method -> modality -> fields set for that method on that modality
            (before `switches`, which win), e.g. SemCovNet's dermoscopic encoder order.
        lrs: learning-rate candidates; with two or more each candidate is its own experiment
            (:func:`lr_experiment`) and the one with the best mean validation AUC is reported
            (:func:`semcov_train.experiments.select_learning_rates`). Empty: the preset's lr.

    Raises:
        ValueError: an empty axis, a repeated entry, a negative fold, a switch that is not a
            TrainConfig field or that names the run, or an lr that is not a positive number.
    """

    experiment: str
    methods: Sequence[str]
    modalities: Sequence[str] = ("auto",)
    folds: Sequence[int] = (0,)
    seeds: Sequence[int] = (0,)
    switches: Any = ()
    method_switches: Any = field(default_factory=dict)
    lrs: Sequence[float] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.experiment, str) or not self.experiment:
            raise ValueError(f"experiment must be a non-empty string, got {self.experiment!r}")
        for name in ("methods", "modalities", "folds", "seeds", "lrs"):
            values = getattr(self, name)
            if isinstance(values, (str, bytes)):
                raise TypeError(f"{name} must be a sequence, not a single string {values!r}")
            values = tuple(values)
            if not values and name != "lrs":
                raise ValueError(f"{name} must not be empty")
            if len(set(values)) != len(values):
                raise ValueError(f"{name} repeats an entry: {list(values)}")
            object.__setattr__(self, name, values)
        for name in ("folds", "seeds"):
            for value in getattr(self, name):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{name} must be integers >= 0, got {value!r}")
        for lr in self.lrs:
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
                raise ValueError(f"lrs must be positive numbers, got {lr!r}")
            if not math.isfinite(lr):
                raise ValueError(f"lrs must be finite, got {lr!r}")
        object.__setattr__(self, "switches", _frozen_switches(self.switches, "switches"))
        per_method = dict(self.method_switches)
        frozen = tuple(
            (method, modality, _frozen_switches(fields, f"method_switches[{method!r}]"))
            for method, by_modality in sorted(per_method.items())
            for modality, fields in sorted(dict(by_modality).items())
        )
        object.__setattr__(self, "method_switches", frozen)

    @property
    def tunes_lr(self) -> bool:
        """Whether the grid trains several learning rates and selects one."""
        return len(self.lrs) > 1

    def _fields(self, method: str, modality: str) -> dict[str, Any]:
        fields_ = {}
        for m, mod, pairs in self.method_switches:
            if m == method and mod == modality:
                fields_.update(pairs)
        fields_.update(self.switches)
        return fields_

    def runs(self) -> tuple[Run, ...]:
        """Every run, in the order methods, modalities, (lrs), folds, seeds."""
        runs = []
        lrs: Sequence[float | None] = self.lrs or (None,)
        for method in self.methods:
            for modality in self.modalities:
                for lr in lrs:
                    fields_ = self._fields(method, modality)
                    experiment = self.experiment
                    if lr is not None:
                        fields_["lr"] = float(lr)
                        if self.tunes_lr:
                            experiment = lr_experiment(self.experiment, lr)
                    for fold in self.folds:
                        for seed in self.seeds:
                            runs.append(
                                Run(
                                    experiment,
                                    method,
                                    modality,
                                    fold,
                                    seed,
                                    _frozen_switches(fields_, "switches"),
                                    self.experiment,
                                )
                            )
        return tuple(runs)

    def __len__(self) -> int:
        return len(self.runs())


def parse_shard(text: str) -> tuple[int, int]:
    """``"k/N"`` -> ``(k, N)`` with ``0 <= k < N``.

    Raises:
        ValueError: not of the form k/N with integers 0 <= k < N.
    """
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise ValueError(f"shard must be k/N (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"shard must be k/N with 0 <= k < N, got {text!r}")
    return k, n


def shard(runs: Sequence[Any], k: int, n: int) -> list[Any]:
    """The k-th of `n` disjoint shards of `runs` (every n-th entry, starting at k).

    Shard the *whole* grid (finished runs included), never only the pending runs: then every
    machine computes the same partition whatever it has already finished, the N shards cover
    each run exactly once, and the ``DONE`` markers tell each machine which of its runs to skip.

    Raises:
        ValueError: k or n out of range.
    """
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"shard must satisfy 0 <= k < N, got {k}/{n}")
    return list(runs)[k::n]
