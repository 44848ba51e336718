"""Fixtures of the HTML report tests: a binary and a 3-class audit written as CSVs, the full
report computed from them (test, slope, power, bands, strata, curves, intersections), and the
same report stripped of those fields as a 0.2 report was."""

from __future__ import annotations

import dataclasses
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from semcov_metrics import SemanticFairnessReport, semantic_fairness_report

DESCRIPTORS = ["hair", "pen_ink", "vessels", "blue_white_veil"]
SITES = ["arm", "leg", "trunk", "head_neck", "palm", "scalp"]
FDR = 0.1


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


def full_report(train: pd.DataFrame, test: pd.DataFrame, classes: list[str]):
    """The report of ``report_from`` with its power simulated (every 0.3 field present)."""
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
        n_boot=40,
        power=True,
    )


def bare_report(report: SemanticFairnessReport) -> SemanticFairnessReport:
    """``report`` as a 0.2 report was: no test, slope, power, bands, strata, curves or
    intersections (the page must show them as not computed)."""
    nan = float("nan")
    table = report.table.drop(
        columns=["band", "q_value", "flagged", "tpr_low", "tpr_high", "exclusion"]
    )
    return dataclasses.replace(
        report,
        table=table,
        cdi_p_value=nan,
        cdi_null_q95=nan,
        slope=None,
        power=None,
        strata=pd.DataFrame(),
        reliability={},
        intersections=pd.DataFrame(),
        roc={},
        class_coverage=pd.DataFrame(),
        descriptor_tests=pd.DataFrame(),
    )


@pytest.fixture(scope="session")
def binary_audit(tmp_path_factory):
    """(train rows, test rows, classes, report, full report, (train.csv, test.csv)), binary."""
    classes = ["MEL", "NV"]
    train, test = audit_frames(1500, 1200, classes)
    folder = tmp_path_factory.mktemp("binary")
    paths = write_csvs(folder, train, test)
    full = full_report(train, test, classes)
    return train, test, classes, bare_report(full), full, paths


@pytest.fixture(scope="session")
def multiclass_audit(tmp_path_factory):
    """The same for a 3-class task (no ROC, no reliability: those are binary)."""
    classes = ["BCC", "MEL", "NV"]
    train, test = audit_frames(1500, 1200, classes, seed=1)
    folder = tmp_path_factory.mktemp("multiclass")
    paths = write_csvs(folder, train, test)
    full = full_report(train, test, classes)
    return train, test, classes, bare_report(full), full, paths


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
        bare_report=bare_report,
        write_csvs=write_csvs,
    )
