"""Fixtures of the HTML report tests: a binary and a 3-class audit written as CSVs, the report
computed from them, and the same report carrying the 0.3 fields (band, Wilson intervals,
q-values, strata, reliability, ROC, intersections, p-values, power) computed here by hand."""

from __future__ import annotations

import dataclasses
import itertools
import types
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from semcov_metrics import SemanticFairnessReport, reliability_diagram, semantic_fairness_report

DESCRIPTORS = ["hair", "pen_ink", "vessels", "blue_white_veil"]
SITES = ["arm", "leg", "trunk", "head_neck", "palm", "scalp"]
FDR = 0.1

FullReport = dataclasses.make_dataclass(
    "FullReport",
    [
        (name, Any, dataclasses.field(default=None))
        for name in (
            "cdi_interval",
            "cdi_null_q95",
            "cdi_p_value",
            "coverage_error_slope",
            "slope_interval",
            "slope_p_value",
            "power",
            "strata",
            "reliability",
            "intersections",
            "roc",
            "classes",
            "fdr",
        )
    ],
    bases=(SemanticFairnessReport,),
    frozen=True,
)


def audit_frames(n_train: int, n_test: int, classes: list[str], seed: int = 0):
    """Train and test rows: descriptor scores, label, site; test rows get a positive-class score
    (binary) or per-class scores, with more misses where the class is rare and ``hair`` high."""
    rng = np.random.default_rng(seed)
    probs = np.linspace(2.0, 1.0, len(classes))
    probs /= probs.sum()

    def rows(n: int) -> pd.DataFrame:
        frame = pd.DataFrame(rng.beta(0.6, 1.8, (n, len(DESCRIPTORS))), columns=DESCRIPTORS)
        frame["label"] = rng.choice(classes, n, p=probs)
        frame["site"] = rng.choice(SITES, n, p=[0.34, 0.3, 0.2, 0.1, 0.05, 0.01])
        return frame

    train, test = rows(n_train), rows(n_test)
    truth = (test["label"].to_numpy()[:, None] == np.array(classes)[None, :]).astype(float)
    rare = test["site"].isin(["palm", "scalp"]).to_numpy()
    noise = 0.8 + 1.2 * test["hair"].to_numpy() + 1.8 * rare
    logits = 2.2 * truth + rng.normal(0.0, noise[:, None], truth.shape)
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for k, name in enumerate(classes):
        test[f"score_{name}"] = scores[:, k]
    test["pred"] = np.array(classes)[scores.argmax(axis=1)]
    return train, test


def write_csvs(folder: Path, train: pd.DataFrame, test: pd.DataFrame) -> tuple[Path, Path]:
    paths = folder / "train.csv", folder / "test.csv"
    train.to_csv(paths[0], index=False)
    test.to_csv(paths[1], index=False)
    return paths


def report_from(train: pd.DataFrame, test: pd.DataFrame, classes: list[str], n_boot: int = 40):
    scores = test[f"score_{classes[1]}"] if len(classes) == 2 else None
    return semantic_fairness_report(
        train_descriptors=train[DESCRIPTORS],
        train_labels=train["label"],
        train_subgroups=train["site"],
        test_descriptors=test[DESCRIPTORS],
        test_labels=test["label"],
        test_predictions=test["pred"],
        test_subgroups=test["site"],
        test_scores=scores,
        classes=classes,
        n_boot=n_boot,
    )


def _wilson(tpr: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    n = np.maximum(n, 1e-12)
    centre = (tpr + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(tpr * (1 - tpr) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _bh(p: np.ndarray) -> np.ndarray:
    return stats.false_discovery_control(p, method="bh")


def _table(report: SemanticFairnessReport) -> pd.DataFrame:
    table = report.table.copy()
    valid = table["valid"].to_numpy()
    low, high = _wilson(table["tpr"].fillna(0).to_numpy(), table["support"].to_numpy(), 1.96)
    table["tpr_low"], table["tpr_high"] = (
        np.where(valid, low, np.nan),
        np.where(valid, high, np.nan),
    )
    ranks = table.loc[valid, "coverage"].rank(pct=True)
    table["band"] = None
    table.loc[valid, "band"] = np.select(
        [ranks <= 1 / 3, ranks <= 2 / 3], ["Tail", "Middle"], "Head"
    )
    class_error = table[valid].groupby("class")["error"].transform("mean")
    se = np.sqrt(class_error * (1 - class_error) / table.loc[valid, "support"])
    p = stats.norm.sf((table.loc[valid, "error"] - class_error) / se.clip(lower=1e-9))
    table["q_value"] = np.nan
    table.loc[valid, "q_value"] = _bh(np.asarray(p))
    table["flagged"] = table["q_value"].lt(FDR)
    table["exclusion"] = np.where(
        valid, "", [f"test support {s:.2f} < min_support 1" for s in table["support"]]
    )
    return table


def _strata_and_reliability(table: pd.DataFrame, test: pd.DataFrame, positive: str | None):
    valid = table[table["valid"]]
    records, reliability = [], {}
    for band in ("Tail", "Middle", "Head"):
        rows = valid[valid["band"] == band]
        cells = set(zip(rows["class"], rows["subgroup"], strict=True))
        members = test[[c in cells for c in zip(test["label"], test["site"], strict=True)]]
        ece = np.nan
        if positive is not None and len(members):
            curve = reliability_diagram(
                (members["label"] == positive).astype(int),
                members[f"score_{positive}"],
                n_bins=8,
                mode="positive",
            )
            curve = curve[curve["count"] > 0]
            weight = curve["count"] / curve["count"].sum()
            ece = float((weight * curve["gap"]).sum())
            reliability[band] = {
                "confidence": curve["confidence"].tolist(),
                "accuracy": curve["accuracy"].tolist(),
                "weight": weight.tolist(),
            }
        records.append(
            {
                "band": band,
                "coverage_low": rows["coverage"].min(),
                "coverage_high": rows["coverage"].max(),
                "n_scgs": len(rows),
                "support": rows["support"].sum(),
                "tpr": np.average(rows["tpr"], weights=rows["support"]),
                "ece": ece,
            }
        )
    return pd.DataFrame(records), reliability


def _intersections(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    records = []
    for (a, b), class_value, site in itertools.product(
        itertools.combinations(DESCRIPTORS, 2), sorted(test["label"].unique()), SITES
    ):
        tr = train[(train["label"] == class_value) & (train["site"] == site)]
        te = test[(test["label"] == class_value) & (test["site"] == site)]
        weight = (te[a] * te[b]).to_numpy()
        miss = (te["pred"] != class_value).to_numpy()
        if weight.sum() < 1:
            continue
        error = float((weight * miss).sum() / weight.sum())
        base = max(float(miss.mean()), 1e-9)
        k, n = round(float((weight * miss).sum())), max(round(weight.sum()), 1)
        records.append(
            {
                "class": class_value,
                "descriptors": f"{a} + {b}",
                "subgroup": site,
                "n_train": len(tr),
                "coverage": float((tr[a] * tr[b]).mean()) if len(tr) else 0.0,
                "support": float(weight.sum()),
                "error": error,
                "lift": error / base,
                "p_value": stats.binomtest(min(k, n), n, min(base, 1.0), "greater").pvalue,
            }
        )
    frame = pd.DataFrame(records)
    frame["q_value"] = _bh(frame["p_value"].to_numpy())
    return frame


def full_report(report, train, test, classes, *, underpowered: bool) -> Any:
    """``report`` with every 0.3 field, computed here from the same rows."""
    table = _table(report)
    positive = classes[1] if len(classes) == 2 else None
    strata, reliability = _strata_and_reliability(table, test, positive)
    valid = table[table["valid"]]
    x, y = valid["coverage"], valid["error"]
    fit = stats.linregress(x, y)
    rng = np.random.default_rng(1)
    by_class = valid.groupby("class")["error"]
    null = np.array(
        [
            abs(stats.pearsonr(x, by_class.transform(lambda e: rng.permutation(e.to_numpy())))[0])
            for _ in range(99)
        ]
    )
    roc = {}
    if positive is not None:
        for site, rows in test.groupby("site"):
            truth = rows["label"] == positive
            fpr, tpr, _ = roc_curve(truth, rows[f"score_{positive}"])
            roc[site] = {
                "fpr": fpr.tolist(),
                "tpr": tpr.tolist(),
                "auc": roc_auc_score(truth, rows[f"score_{positive}"]),
            }
    mds = 2.8 * fit.stderr
    base = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    base["table"] = table
    return FullReport(
        **base,
        cdi_interval=list(report.intervals["cdi"]),
        cdi_null_q95=float(np.quantile(null, 0.95)),
        cdi_p_value=float((1 + (null >= report.cdi).sum()) / (1 + null.size)),
        coverage_error_slope=float(fit.slope),
        slope_interval=(fit.slope - 1.96 * fit.stderr, fit.slope + 1.96 * fit.stderr),
        slope_p_value=float(fit.pvalue),
        power={
            "alpha": 0.05,
            "target_power": 0.8,
            "min_detectable_slope": float(mds),
            "reference_slope": float(mds * (0.5 if underpowered else 2.0)),
            "power_at_reference": 0.3 if underpowered else 0.99,
            "underpowered": underpowered,
            "n_simulations": 200,
        },
        strata=strata,
        reliability=reliability,
        intersections=_intersections(train, test),
        roc=roc,
        classes=list(classes),
        fdr=FDR,
    )


@pytest.fixture(scope="session")
def binary_audit(tmp_path_factory):
    """(train rows, test rows, classes, report, full report, (train.csv, test.csv)), binary."""
    classes = ["MEL", "NV"]
    train, test = audit_frames(1500, 1200, classes)
    folder = tmp_path_factory.mktemp("binary")
    paths = write_csvs(folder, train, test)
    report = report_from(train, test, classes)
    full = full_report(report, train, test, classes, underpowered=True)
    return train, test, classes, report, full, paths


@pytest.fixture(scope="session")
def multiclass_audit(tmp_path_factory):
    """The same for a 3-class task (no ROC, no reliability: those are binary)."""
    classes = ["BCC", "MEL", "NV"]
    train, test = audit_frames(1500, 1200, classes, seed=1)
    folder = tmp_path_factory.mktemp("multiclass")
    paths = write_csvs(folder, train, test)
    report = report_from(train, test, classes)
    full = full_report(report, train, test, classes, underpowered=False)
    return train, test, classes, report, full, paths


class Page(HTMLParser):
    """The parts of an HTML page the tests read: every start tag with its attributes, the text
    of every table row (by the table's id or class), and the page's visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("style", "svg"):
            self._skip += 1
        if tag == "table":
            name = attributes.get("id") or attributes.get("class") or f"table{len(self.tables)}"
            self._table.append(name)
            self.tables.setdefault(name, [])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table[-1]].append(self._row)
            self._row = None
        elif tag == "table" and self._table:
            self._table.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if not self._skip:
            self.text.append(data)

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="session")
def html_tools():
    """The helpers above, for test files (conftest is not importable under importlib mode)."""
    return types.SimpleNamespace(
        Page=Page,
        DESCRIPTORS=DESCRIPTORS,
        audit_frames=audit_frames,
        report_from=report_from,
        full_report=full_report,
        write_csvs=write_csvs,
    )
