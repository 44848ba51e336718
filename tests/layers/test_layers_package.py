"""Package surface: exports, __all__ everywhere, import without timm."""

import importlib
import os
import pkgutil
import subprocess
import sys
import textwrap

import semcov_layers

FIXED_NAMES = {
    "SemanticDescriptorMap",
    "DescriptorCrossAttention",
    "DescriptorAttentionModulation",
    "SemanticEncoder",
    "SemCovNet",
    "create_semcovnet",
    "DVALoss",
    "CDIRegularizer",
    "SemCovLoss",
    "ClassBalancedLoss",
    "AsymmetricLoss",
    "GroupDROLoss",
    "NIRRegularizer",
}


def test_version_and_fixed_public_names():
    assert semcov_layers.__version__ == "0.2.0"
    assert set(semcov_layers.__all__) >= FIXED_NAMES
    for name in semcov_layers.__all__:
        assert hasattr(semcov_layers, name), name


def test_every_module_declares_all():
    modules = pkgutil.walk_packages(semcov_layers.__path__, prefix="semcov_layers.")
    names = [info.name for info in modules]
    assert "semcov_layers.losses.cdi" in names
    for name in names:
        module = importlib.import_module(name)
        assert isinstance(getattr(module, "__all__", None), list), name
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"


def test_import_and_build_without_timm():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["timm"] = None  # makes `import timm` fail like an absent package
        import torch
        from torch import nn
        import semcov_layers
        model = semcov_layers.SemCovNet(nn.Conv2d(3, 8, 4, stride=4), 8, 2, 3, dim=16)
        out = model(torch.randn(2, 3, 16, 16), torch.rand(2, 3))
        assert out.logits.shape == (2, 2)
        assert "timm" not in {m for m in sys.modules if sys.modules[m] is not None}
        try:
            semcov_layers.create_semcovnet("resnet18", num_classes=2, num_descriptors=3)
        except ImportError as error:
            assert "semcov-layers[timm]" in str(error)
        else:
            raise AssertionError("create_semcovnet worked without timm")
        print("ok")
        """
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
