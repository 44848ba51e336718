"""create_semcovnet on timm backbones (pretrained=False: no network in tests)."""

import sys

import pytest
import torch

from semcov_layers import SemCovLoss, SemCovNet, create_semcovnet

timm = pytest.importorskip("timm")

K, T = 7, 2


@pytest.mark.parametrize(
    ("name", "kwargs", "image", "batch"),
    [
        ("efficientnet_b0", {}, 64, 2),
        ("resnet18", {}, 64, 2),
        ("convnext_atto", {}, 64, 2),
        ("regnety_002", {}, 64, 2),
        ("vit_tiny_patch16_224", {"img_size": 32}, 32, 2),
    ],
)
def test_forward_and_backward(name, kwargs, image, batch):
    torch.manual_seed(0)
    model = create_semcovnet(
        name, num_classes=T, num_descriptors=K, pretrained=False, dim=32, backbone_kwargs=kwargs
    )
    backbone = timm.create_model(name, pretrained=False, num_classes=0, **kwargs)
    assert model.feature_dim == backbone.num_features
    images = torch.randn(batch, 3, image, image)
    descriptors = torch.rand(batch, K)
    out = model(images, descriptors)
    assert out.logits.shape == (batch, T)
    assert out.descriptor_logits.shape == (batch, K)
    assert out.embedding.shape == out.descriptor_embedding.shape == (batch, 32)
    criterion = SemCovLoss(torch.rand(T, K, 3))
    loss = criterion(out, torch.tensor([0, 1]), descriptors, torch.tensor([0, 2])).total
    loss.backward()
    assert bool(torch.isfinite(loss))
    for param_name, param in model.named_parameters():
        assert param.grad is not None and bool(torch.isfinite(param.grad).all()), param_name
    # The backbone is trained too: its first parameter gets a gradient through the encoder.
    assert float(next(model.backbone.parameters()).grad.abs().max()) > 0


def test_vit_prefix_tokens_come_from_timm():
    model = create_semcovnet(
        "vit_tiny_patch16_224",
        num_classes=T,
        num_descriptors=K,
        pretrained=False,
        dim=32,
        backbone_kwargs={"img_size": 32},
    )
    assert model.num_prefix_tokens == 1
    assert model.forward_features(torch.randn(1, 3, 32, 32)).shape == (1, 192, 2, 2)


def test_options_reach_the_encoder():
    model = create_semcovnet(
        "resnet18",
        num_classes=3,
        num_descriptors=4,
        pretrained=False,
        dim=64,
        depth=2,
        order="mixture",
        uncertainty_source="refined",
    )
    assert isinstance(model, SemCovNet)
    assert model.encoder.dim == 64 and model.encoder.depth == 2
    assert model.encoder.uncertainty_source == "refined"
    assert model.classifier.out_features == 3


def test_missing_timm_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(ImportError, match=r"pip install semcov-layers\[timm\]"):
        create_semcovnet("resnet18", num_classes=T, num_descriptors=K, pretrained=False)


def test_backbone_name_must_be_a_string():
    with pytest.raises(TypeError, match="`backbone_name`"):
        create_semcovnet(timm.create_model, num_classes=T, num_descriptors=K)
