"""``semcov_order="auto"``: the command line trains the apps' dermoscopic encoder order
(``mixture_dam_attn``, paper Table 5) and ``attn_dam`` elsewhere; config.json stores it resolved."""

from __future__ import annotations

import json

import pytest

from semcov_train import make_config, train
from semcov_train.cli import config_from_args
from semcov_train.inputs.resolve import resolve_config, resolve_semcov_order
from semcov_train.training.trainer import changed_settings, finished_results


@pytest.mark.parametrize(
    ("dataset", "modality", "expected"),
    [
        ("synthetic", "auto", "mixture_dam_attn"),  # synthetic and MILK10k default: dermoscopic
        ("synthetic", "dermoscopic", "mixture_dam_attn"),
        ("milk10k", "dermoscopic", "mixture_dam_attn"),
        ("isic_dicm17k", "auto", "mixture_dam_attn"),
        ("synthetic", "clinical", "attn_dam"),
        ("milk10k", "clinical", "attn_dam"),
        ("celeba", "auto", "attn_dam"),
    ],
)
def test_auto_resolves_per_modality(dataset, modality, expected):
    config = make_config("smoke", dataset=dataset, modality=modality)
    assert config.semcov_order == "auto"
    assert resolve_semcov_order(config) == expected
    assert resolve_config(config).semcov_order == expected


def test_an_explicit_order_is_kept():
    config = make_config("smoke", semcov_order="dam_attn")
    assert resolve_semcov_order(config) == "dam_attn" and resolve_config(config) is config


def test_the_command_line_default_is_the_apps_dermoscopic_order():
    config, _ = config_from_args(["--method", "semcovnet", "--dataset", "synthetic"])
    assert resolve_semcov_order(config) == "mixture_dam_attn"


def test_config_json_stores_the_resolved_order_and_auto_still_matches_it(smoke):
    config = smoke(method="semcovnet", modality="clinical")
    result = train(config)
    stored = json.loads((result.run_dir / "config.json").read_text())["config"]
    assert stored["semcov_order"] == "attn_dam"
    assert changed_settings(stored, config) == []
    assert finished_results(config) == result.results
    changed = changed_settings(stored, config.replace(semcov_order="mixture"))
    assert changed == ["semcov_order: 'attn_dam' -> 'mixture'"]
