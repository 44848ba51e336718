"""Run by CI in a clean environment holding only the semcov-layers wheel, torch and einops."""

import importlib
import importlib.util
import os
import sys

# Run as a script, this file's folder is sys.path[0] and `import semcov_layers` would import this
# very file (same name); drop the folder so the installed wheel is imported.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

torch = importlib.import_module("torch")
nn = torch.nn
sl = importlib.import_module("semcov_layers")

assert "site-packages" in (sl.__file__ or ""), f"semcov_layers imported from {sl.__file__}"
assert importlib.util.find_spec("timm") is None, "this environment must not have timm"

torch.manual_seed(0)
num_classes, num_descriptors, num_subgroups = 2, 7, 8

# A user's own backbone: any module mapping images to a (B, C, H, W) feature map.
backbone = nn.Sequential(
    nn.Conv2d(3, 16, 3, stride=2, padding=1),
    nn.BatchNorm2d(16),
    nn.ReLU(),
    nn.Conv2d(16, 32, 3, stride=2, padding=1),
    nn.BatchNorm2d(32),
    nn.ReLU(),
)
model = sl.SemCovNet(backbone, 32, num_classes, num_descriptors, dim=64, depth=3)
criterion = sl.SemCovLoss(torch.rand(num_classes, num_descriptors, num_subgroups))
optimizer = torch.optim.Adam([*model.parameters(), *criterion.parameters()], lr=1e-3)

images = torch.randn(8, 3, 32, 32)
descriptors = torch.rand(8, num_descriptors)
targets = torch.randint(0, num_classes, (8,))
subgroups = torch.randint(0, num_subgroups, (8,))

before = [p.detach().clone() for p in model.parameters()]
out = model(images, descriptors)
assert out.logits.shape == (8, num_classes) and out.descriptor_logits.shape == (8, num_descriptors)
losses = criterion(out, targets, descriptors, subgroups)
assert torch.isfinite(losses.total), losses
optimizer.zero_grad()
losses.total.backward()
optimizer.step()
changed = sum(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
assert changed == len(before), f"only {changed} of {len(before)} parameter tensors changed"

try:
    sl.create_semcovnet("resnet18", num_classes=2, num_descriptors=7)
except ImportError as error:
    assert "semcov-layers[timm]" in str(error)
else:
    raise AssertionError("create_semcovnet should need timm")

print(
    f"semcov_layers {sl.__version__} wheel OK without timm: SemCovNet step, "
    f"loss {losses.total.item():.4f}, {changed} parameter tensors updated"
)
