"""Bad input: every config error names the field (and suggests the closest name on typos)."""

from __future__ import annotations

import pytest

from semcov_train import METHODS, PRESETS, TrainConfig, make_config, train
from semcov_train.cli import config_from_args, main
from semcov_train.methods.registry import resolve_backbone


def test_presets_are_named_configs():
    assert set(PRESETS) == {"smoke", "quick", "paper"}
    paper = PRESETS["paper"]
    assert (paper.image_size, paper.epochs, paper.batch_size) == (224, 50, 32)
    assert (paper.warmup_epochs, paper.warmup_factor, paper.patience) == (1, 0.1, 10)
    assert paper.pretrained and paper.model_scale == "paper"
    assert 1e-4 <= paper.lr <= 3e-4
    assert (paper.lambda_desc, paper.lambda_dva, paper.lambda_cdi) == (0.05, 0.1, 0.1)
    assert PRESETS["smoke"].model_scale == "tiny" and PRESETS["smoke"].epochs == 1
    assert PRESETS["quick"].model_scale == "small"
    for name, preset in PRESETS.items():
        assert preset.preset == name


def test_model_scale_picks_each_methods_backbone():
    expected = {
        "paper": ("efficientnet_b0", "vit_base_patch16_224"),
        "small": ("semcov_resnet10t_narrow", "semcov_vit_micro"),
        "tiny": ("test_efficientnet", "test_vit"),
    }
    for scale, (cnn, vit) in expected.items():
        config = make_config("quick", model_scale=scale)
        assert resolve_backbone(config, METHODS["erm"]) == cnn
        assert resolve_backbone(config, METHODS["vit"]) == vit
        assert resolve_backbone(config, METHODS["semcovnet"]) == cnn
    # an explicit backbone wins over the scale
    config = make_config("quick", model_scale="tiny", backbone="resnet18")
    assert resolve_backbone(config, METHODS["vit"]) == "resnet18"
    with pytest.raises(ValueError, match="model_scale must be one of paper, small, tiny"):
        make_config("quick", model_scale="large")


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan")])
def test_non_positive_lr(lr):
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0"):
        make_config("smoke", lr=lr)


def test_preset_typo_suggests_the_preset():
    with pytest.raises(ValueError, match=r"unknown preset 'smoek' \(did you mean 'smoke'\?\)"):
        make_config("smoek")


def test_unknown_field_suggests_the_field():
    with pytest.raises(ValueError, match=r"unknown config field 'batchsize'.*'batch_size'"):
        make_config("smoke", batchsize=4)


def test_wrong_type_names_the_field():
    with pytest.raises(TypeError, match=r"^epochs must be int"):
        make_config("smoke", epochs=1.5)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch_size", 0, r"^batch_size must be >= 1"),
        ("fold", 5, r"^fold must be in 0\.\.4"),
        ("semcov_depth", 7, r"^semcov_depth must be between 1 and 6"),
        ("semcov_order", "attn_dma", r"semcov_order must be one of.*did you mean 'attn_dam'"),
        ("cdi_decay", 1.5, r"^cdi_decay must be in \[0\.0, 1\.0\]"),
        ("lambda_cdi", -0.1, r"^lambda_cdi must be >= 0"),
        ("image_size", 8, r"^image_size must be >= 16"),
        ("amp", "fp8", r"^amp must be one of auto, bf16, fp16, off"),
    ],
)
def test_out_of_range_fields(field, value, message):
    with pytest.raises(ValueError, match=message):
        make_config("smoke", **{field: value})


def test_feedback_needs_two_layers():
    with pytest.raises(ValueError, match=r"semcov_feedback needs semcov_depth >= 2"):
        make_config("smoke", semcov_depth=1)


def test_unknown_method_suggests_a_method(smoke):
    with pytest.raises(
        ValueError, match=r"unknown method 'semcovnt' \(did you mean 'semcovnet'\?\)"
    ):
        train(smoke(method="semcovnt"))


def test_unknown_dataset_suggests_a_dataset(smoke):
    with pytest.raises(ValueError, match=r"unknown dataset 'milk10' \(did you mean 'milk10k'\?\)"):
        train(smoke(dataset="milk10"))


def test_missing_data_root_names_the_field(smoke, tmp_path):
    with pytest.raises(ValueError, match=r"^data_root: dataset 'milk10k' needs --data-root"):
        train(smoke(dataset="milk10k"))
    with pytest.raises(ValueError, match=r"^data_root: .*nowhere.* is not a directory"):
        train(smoke(dataset="milk10k", data_root=str(tmp_path / "nowhere")))


def test_modality_the_dataset_lacks(smoke):
    with pytest.raises(ValueError, match=r"modality='photo' is not available for dataset"):
        train(smoke(modality="photo"))


def test_batch_larger_than_the_training_split(smoke):
    with pytest.raises(ValueError, match=r"^batch_size=64 is larger than the training split"):
        train(smoke(batch_size=64))


def test_amp_on_a_cpu_names_the_field(smoke):
    with pytest.raises(ValueError, match=r"^amp='bf16' needs a CUDA device"):
        train(smoke(amp="bf16", device="cpu"))


def test_cli_parses_every_field_over_the_preset():
    config, resume = config_from_args(
        [
            "--method", "semcovnet", "--dataset", "synthetic", "--preset", "smoke",
            "--out", "somewhere", "--resume", "--batch-size", "4", "--use-cdi", "false",
            "--semcov_order", "mixture", "--lr", "2e-4", "--weights", "none",
        ]
    )  # fmt: skip
    assert resume
    assert isinstance(config, TrainConfig)
    assert (config.method, config.preset, config.out) == ("semcovnet", "smoke", "somewhere")
    assert (config.batch_size, config.use_cdi, config.semcov_order) == (4, False, "mixture")
    assert config.lr == 2e-4 and config.weights is None
    assert config.image_size == PRESETS["smoke"].image_size


def test_cli_no_progress_is_progress_false():
    base = ["--method", "erm", "--dataset", "synthetic", "--preset", "smoke"]
    shown = [*base, "--progress", "true"]
    assert config_from_args(shown)[0].progress is True
    assert config_from_args([*shown, "--no-progress"])[0].progress is False
    assert config_from_args([*shown, "--progress", "false"])[0].progress is False


def test_cli_errors_are_one_line_with_exit_code_2(capsys):
    assert main(["--method", "ermm", "--dataset", "synthetic", "--preset", "smoke"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("semcov-train: error: unknown method 'ermm' (did you mean 'erm'?)")
    assert "\n" not in error
    assert main(["--method", "erm", "--dataset", "synthetic", "--preset", "papr"]) == 2
    assert "did you mean 'paper'" in capsys.readouterr().err


def test_cli_unknown_option_suggests_the_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        config_from_args(["--method", "erm", "--dataset", "synthetic", "--batch-sise", "4"])
    assert exit_info.value.code == 2
    assert "unknown option '--batch-sise' (did you mean '--batch-size'?)" in capsys.readouterr().err


def test_cli_bad_value_names_the_option(capsys):
    with pytest.raises(SystemExit):
        config_from_args(["--method", "erm", "--dataset", "synthetic", "--epochs", "many"])
    assert "--epochs" in capsys.readouterr().err
