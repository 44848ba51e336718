"""SemanticEncoderOptions: one definition of the encoder's options, taken by the encoder and
SemCovNet as an object or by name."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from semcov_layers import SemanticEncoder, SemanticEncoderOptions, SemCovNet
from semcov_layers.encoder_options import ENCODER_OPTION_CHOICES, option_names


def test_options_object_and_keywords_build_the_same_encoder():
    options = SemanticEncoderOptions(dim=16, depth=2, order="mixture", feedback_mode="replace")
    torch.manual_seed(0)
    by_object = SemanticEncoder(8, 3, options=options).eval()
    torch.manual_seed(0)
    by_name = SemanticEncoder(8, 3, dim=16, depth=2, order="mixture", feedback_mode="replace")
    features, p = torch.randn(2, 8, 4, 4), torch.rand(2, 3)
    assert by_object.options == by_name.options == options
    assert torch.equal(by_object(features, p).features, by_name.eval()(features, p).features)


def test_keywords_override_the_options_object():
    encoder = SemanticEncoder(8, 3, options=SemanticEncoderOptions(dim=16, depth=2), depth=3)
    assert (encoder.dim, encoder.depth, len(encoder.layers)) == (16, 3, 3)


def test_semcovnet_takes_the_options_and_sizes_its_heads_from_them():
    options = SemanticEncoderOptions(dim=12, depth=2)
    model = SemCovNet(nn.Conv2d(3, 8, 4, stride=4), 8, 2, 3, options=options)
    assert model.encoder.options == options
    assert model.classifier.in_features == model.descriptor_proj.out_features == 12


def test_unknown_option_and_bad_values_are_refused():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['deepth'\]"):
        SemanticEncoderOptions().replace(deepth=3)
    with pytest.raises(ValueError, match="`depth` must be between 1 and 6"):
        SemanticEncoderOptions(depth=7)
    with pytest.raises(ValueError, match="`sdm_mode` must be one of"):
        SemanticEncoderOptions(sdm_mode="concat")
    with pytest.raises(TypeError, match="`dim` must be an int"):
        SemanticEncoderOptions(dim=1.5)  # type: ignore[arg-type]


def test_from_prefixed_reads_a_flat_configuration_and_names_its_fields():
    flat = {"semcov_dim": 32, "semcov_order": "dam_attn", "lr": 1e-3}
    options = SemanticEncoderOptions.from_prefixed(flat, "semcov_")
    assert (options.dim, options.order, options.depth) == (32, "dam_attn", 3)
    assert SemanticEncoderOptions.from_prefixed(flat, "semcov_", order="mixture").order == "mixture"
    with pytest.raises(ValueError, match=r"^semcov_map_norm must be one of"):
        SemanticEncoderOptions.from_prefixed({"semcov_map_norm": "l1"}, "semcov_")


def test_every_choice_option_is_a_field():
    assert set(ENCODER_OPTION_CHOICES) <= set(option_names())
