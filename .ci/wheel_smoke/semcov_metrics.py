"""Run by CI in a clean environment holding only the semcov-metrics wheel and its dependencies."""

import importlib.util
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np

import semcov_metrics as sm

assert importlib.util.find_spec("torch") is None, "this environment must not have torch"
assert "torch" not in sys.modules

rng = np.random.default_rng(0)
n = 2000
report = sm.semantic_fairness_report(
    train_descriptors=rng.random((n, 7)),
    train_labels=rng.integers(0, 2, n),
    train_subgroups=rng.integers(0, 8, n),
    test_descriptors=rng.random((n, 7)),
    test_labels=rng.integers(0, 2, n),
    test_predictions=rng.integers(0, 2, n),
    test_subgroups=rng.integers(0, 8, n),
    n_boot=20,
)
assert report.n_valid == 112 and 0.0 <= report.cdi <= 1.0
metrics = sm.performance_report(rng.integers(0, 2, n), rng.random(n))
assert set(metrics) == {"auc", "pr_auc", "sens_at_95spec", "balanced_accuracy", "macro_f1", "ece"}
templates = files("semcov_metrics") / "templates"
assert (templates / "report.html.j2").is_file() and (templates / "report.css").is_file()
if importlib.util.find_spec("jinja2") is None:  # the html extra is not installed here
    with tempfile.TemporaryDirectory() as folder:
        try:
            report.to_html(Path(folder) / "report.html")
        except ImportError as error:
            assert "semcov-metrics[html]" in str(error), error
        else:
            raise AssertionError("to_html without the html extra must raise ImportError")
print(f"semcov_metrics {sm.__version__} wheel OK without torch: CDI {report.cdi:.3f}")
