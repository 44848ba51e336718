"""DDP on two CPU processes (gloo, launched with torchrun): the objectives give exactly the
single-process loss and gradients, and a 2-process training run matches a 1-process one."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from semcov_train import run_directory, train
from semcov_train.runtime.distributed import DistContext

WORKER = textwrap.dedent(
    '''
    """Run by torchrun: objective losses and gradients on a split batch, then a training run."""

    import json
    import sys
    from types import SimpleNamespace

    import torch

    from semcov_train.runtime.distributed import DistContext, all_gather_objects, setup_distributed
    from semcov_train.methods.objectives import (
        GroupDROObjective,
        NIRObjective,
        SemanticScaleObjective,
        SemCovObjective,
    )

    B, T, K, S, D = 8, 2, 7, 3, 6
    FLOATS = ("logits", "descriptor_logits", "embedding", "descriptor_embedding")


    def objectives():
        from semcov_layers import GroupDROLoss, NIRRegularizer, SemanticScaleBalancedLoss

        coverage = torch.rand(T, K, S, generator=torch.Generator().manual_seed(1))
        return {
            "semcovnet": SemCovObjective(coverage, symmetric_dva=True, cdi_decay=0.5),
            "groupdro": GroupDROObjective(
                GroupDROLoss(T * S, step_size=0.5), "class_subgroup", K, S
            ),
            "nir": NIRObjective(NIRRegularizer(), 1.0),
            "semantic_scale": SemanticScaleObjective(
                SemanticScaleBalancedLoss(T, D, bank_size=16, min_samples=2)
            ),
        }


    def batch():
        g = torch.Generator().manual_seed(0)
        widths = {"logits": T, "descriptor_logits": K}
        values = {name: torch.randn(B, widths.get(name, D), generator=g) for name in FLOATS}
        values["label"] = torch.tensor([0, 1, 0, 1, 1, 0, 0, 1])
        values["descriptors"] = torch.rand(B, K, generator=g)
        values["subgroup"] = torch.randint(0, S, (B,), generator=g)
        return values


    def losses_and_grads(context: DistContext) -> dict:
        """Loss of each objective on this rank's share of the batch (two steps, so the running
        statistics matter) and the gradient of its rows divided by the world size (as DDP
        averages parameter gradients)."""
        full = batch()
        share = B // context.world_size
        rows = slice(context.rank * share, (context.rank + 1) * share)
        result = {}
        for name, objective in objectives().items():
            steps = []
            for _ in range(2):
                leaves = {k: full[k][rows].clone().requires_grad_(True) for k in FLOATS}
                parts = {k: full[k][rows] for k in ("label", "descriptors", "subgroup")}
                out = objective(SimpleNamespace(**leaves), parts, context)
                out["loss"].backward()
                steps.append({
                    "loss": out["loss"].item(),
                    "grads": {k: (v.grad / context.world_size).tolist()
                              for k, v in leaves.items() if v.grad is not None},
                })
            result[name] = steps
        return result


    if __name__ == "__main__":
        context = setup_distributed("cpu")
        gathered = all_gather_objects(losses_and_grads(context), context)
        if context.rank == 0:
            with open(sys.argv[1], "w") as handle:
                json.dump(gathered, handle)
        from semcov_train.cli import main

        sys.exit(main(sys.argv[2:]))
    '''
)


def _merge_ranks(gathered: list[dict]) -> dict:
    """Per objective and step: the mean loss over ranks and the rows of every rank's gradients."""
    merged = {}
    for name in gathered[0]:
        steps = []
        for step in range(len(gathered[0][name])):
            parts = [rank[name][step] for rank in gathered]
            steps.append(
                {
                    "loss": sum(p["loss"] for p in parts) / len(parts),
                    "grads": {
                        k: torch.tensor([row for p in parts for row in p["grads"][k]])
                        for k in parts[0]["grads"]
                    },
                }
            )
        merged[name] = steps
    return merged


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory, train_cache):
    folder = tmp_path_factory.mktemp("ddp")
    script = folder / "ddp_worker.py"
    script.write_text(WORKER)
    out = folder / "runs"
    options = [
        "--method", "erm", "--dataset", "synthetic", "--preset", "smoke",
        "--out", str(out), "--cache-dir", str(train_cache), "--backbone", "test_efficientnet_gn",
        "--augment", "false", "--epochs", "3", "--num-threads", "1",
    ]  # fmt: skip
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--standalone", str(script), str(folder / "objectives.json"), *options,
    ]  # fmt: skip
    # A new session, so a hung launch can be killed with its workers.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the 2-process run did not finish in 300 s")
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    gathered = json.loads((folder / "objectives.json").read_text())
    return {"script": script, "objectives": gathered, "out": out}


@pytest.mark.parametrize("name", ["semcovnet", "groupdro", "nir", "semantic_scale"])
def test_objectives_on_two_processes_equal_one_process(name, two_process_run):
    worker = runpy.run_path(str(two_process_run["script"]), run_name="reference")
    single = worker["losses_and_grads"](DistContext())[name]
    split = _merge_ranks(two_process_run["objectives"])[name]
    for one, two in zip(single, split, strict=True):
        assert two["loss"] == pytest.approx(one["loss"], rel=1e-5, abs=1e-6)
        assert set(two["grads"]) == set(one["grads"])
        for key, grad in two["grads"].items():
            torch.testing.assert_close(grad, torch.tensor(one["grads"][key]), rtol=1e-4, atol=1e-6)


def test_two_process_training_matches_one_process(two_process_run, smoke):
    config = smoke(
        method="erm",
        backbone="test_efficientnet_gn",
        augment=False,
        epochs=3,
        out=str(two_process_run["out"]),
    )
    ddp_dir = run_directory(config)
    ddp = json.loads((ddp_dir / "results.json").read_text())
    saved = json.loads((ddp_dir / "config.json").read_text())["resolved"]
    assert saved["world_size"] == 2
    assert saved["per_process_batch_size"] == config.batch_size // 2

    single = train(config.replace(out=str(two_process_run["out"] / "single")))
    assert ddp["n_test"] == single.results["n_test"]  # the whole test split, no padding
    assert ddp["best_epoch"] == single.results["best_epoch"]
    for key in ("auc", "pr_auc", "balanced_accuracy", "macro_f1", "ece", "cdi", "tpr_std"):
        assert ddp[key] == pytest.approx(single.results[key], abs=1e-4), key
    ddp_history = [json.loads(json.dumps(r)) for r in _rows(ddp_dir)]
    for mine, theirs in zip(ddp_history, single.history, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-4)
        assert mine["val_auc"] == pytest.approx(theirs["val_auc"], abs=1e-4)


def _rows(run_dir):
    import pandas as pd

    return pd.read_csv(run_dir / "history.csv").to_dict("records")
