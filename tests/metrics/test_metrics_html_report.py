"""The HTML report's content without a browser: what the summary says, the per-SCG tables in
worst-first order, the figures, the sections of a multi-class task, sensitivity and the model
card; missing 0.3 fields shown as "not computed"; a self-contained page (no script, no request,
unique SVG ids); the extras imported lazily."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from semcov_metrics.cli import main
from semcov_metrics.html_report import render_html
from semcov_metrics.model_card import ModelCard

CONTEXT = {"model": "softmax scores", "train": "train.csv (1,500 rows)", "test": "test.csv"}


@pytest.fixture(scope="module")
def binary_pages(binary_audit):
    _, _, _, report, full, _ = binary_audit
    return render_html(report, context=CONTEXT), render_html(full, context=CONTEXT)


def _worst_first(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    rows = table[table["valid"]].to_dict("records")
    flagged = [r.get("flagged", False) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (not flagged[i], rows[i]["tpr"], i))
    return [(rows[i]["class"], rows[i]["descriptor"], rows[i]["subgroup"]) for i in order]


def test_missing_fields_are_shown_as_not_computed(binary_pages, binary_audit, html_tools):
    Page = html_tools.Page
    bare, full = (Page(html).visible_text for html in binary_pages)
    report = binary_audit[3]
    for phrase in (
        "Against the cell-rate resampling null (",
        "its p-value is undefined and the null's 95 % quantile is undefined",
        "slope was not computed",
        "power to see an effect was not computed",
        "Coverage bands: not computed",
        "Reliability curves per band: none for this task",
        "ROC curves by subgroup: none for this task",
        "Intersections: none",
        "Training-set tests: not computed",
        "Columns not computed for this report: band, TPR interval, q-value, flag",
    ):
        assert phrase in bare, phrase
    assert "not computed" in bare and "not computed" not in full.replace(
        "Descriptor sensitivity: not computed", ""
    )
    low, high = report.intervals["cdi"]
    assert f"is {report.cdi:.3f} (95 % CI {low:.3f} to {high:.3f})" in bare


def test_summary_states_the_numbers_in_words(binary_pages, binary_audit, html_tools):
    Page = html_tools.Page
    full_report = binary_audit[4]
    text = Page(binary_pages[1]).visible_text
    low, high = full_report.slope_interval
    # the CDI test's null as significance.py defines it: cell rates permuted within class
    null = (
        f"Against the cell-rate resampling null ({full_report.n_permutations:,} replicates: each "
        "(class, subgroup) cell's error rate is permuted among the cells of its class and every "
        "test image's miss is redrawn from its cell's new rate"
    )
    assert null in text
    assert f"its p-value is {full_report.cdi_p_value:.3f}" in text
    assert f"the null's 95 % quantile is {full_report.cdi_null_q95:.3f}" in text
    assert "permutation of SCGs" not in text and "SCGs permuted" not in text
    assert (
        f"is {full_report.coverage_error_slope:.3f} (95 % CI {low:.3f} to {high:.3f}) per unit "
        "of coverage, p-value"
    ) in text
    power = full_report.power.to_dict()
    if power["min_detectable_slope"] is not None:
        assert f"detects a slope of {power['min_detectable_slope']:.3f} or steeper" in text
    else:  # the binary fixture: its design reaches 80 % power at no slope of the grid
        assert "no slope up to 2 reaches 80 % power with this design" in text
        key = dict(row[:2] for row in Page(binary_pages[1]).tables["key-numbers"][1:])
        assert key["Minimum detectable slope (CDI test)"] == "none up to 2"
    assert ("The audit is underpowered" in text) == power["underpowered"]
    n_flagged = int(full_report.table["flagged"].sum())
    assert f"{n_flagged} of {full_report.n_valid} SCGs are flagged" in text
    assert "false discovery rate of 0.05" in text
    worst = _worst_first(full_report.table)[:3]
    names = [" · ".join(str(p).replace("_", " ") for p in scg) for scg in worst]
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    assert "Model: softmax scores. Training data: train.csv (1,500 rows)." in text


def test_scg_tables_are_worst_first_with_every_column(binary_audit, html_tools):
    Page = html_tools.Page
    full = binary_audit[4]
    page = Page(render_html(full))
    table = full.table
    for k, class_value in enumerate(["MEL", "NV"], start=1):
        header, *rows = page.tables[f"scg-table-{k}"]
        assert header == [
            "class", "descriptor", "subgroup", "training count", "coverage", "band",
            "test support", "TPR", "TPR interval", "q-value", "flag",
        ]  # fmt: skip
        expected = [scg for scg in _worst_first(table) if scg[0] == class_value]
        assert [tuple(r[:3]) for r in rows] == expected
        lookup = table.set_index(["class", "descriptor", "subgroup"])
        for row in rows:
            scg = lookup.loc[tuple(row[:3])]
            assert row[3] == f"{int(scg['n_train']):,}"
            assert float(row[7]) == pytest.approx(scg["tpr"], abs=5e-4)
            assert row[8] == f"{scg['tpr_low']:.3f}–{scg['tpr_high']:.3f}"
            assert row[5] == scg["band"]
            assert (row[10] == "flagged") == bool(scg["flagged"])


def test_left_out_scgs_are_listed_with_counts_and_reason(binary_audit, html_tools):
    Page = html_tools.Page
    full = binary_audit[4]
    page = Page(render_html(full))
    invalid = full.table[~full.table["valid"]]
    assert len(invalid) > 0
    listed = [r for k in (1, 2) for r in page.tables.get(f"excluded-table-{k}", [])[1:]]
    assert sorted(tuple(r[:3]) for r in listed) == sorted(
        zip(invalid["class"], invalid["descriptor"], invalid["subgroup"], strict=True)
    )
    reasons = dict(
        zip(invalid["descriptor"] + invalid["subgroup"], invalid["exclusion"], strict=True)
    )
    for row in listed:
        assert row[5] == reasons[row[1] + row[2]]
        support = invalid.set_index(["descriptor", "subgroup"]).loc[(row[1], row[2]), "support"]
        assert row[4] == f"{float(support):.2f}"


def test_intersections_named_by_descriptors_strongest_first(binary_audit, html_tools):
    Page = html_tools.Page
    full = binary_audit[4]
    rows = Page(render_html(full)).tables["intersections-table"][1:]
    expected = full.intersections.sort_values(
        ["q_value", "error_lift"], ascending=[True, False], kind="stable"
    ).head(15)
    names = [
        f"{c} · {d.replace('_', ' ')} · {s.replace('_', ' ')}"
        for c, d, s in zip(
            expected["class"], expected["intersection"], expected["subgroup"], strict=True
        )
    ]
    assert [r[0] for r in rows] == names
    assert [r[1] for r in rows] == [f"{n:,}" for n in expected["n_train_both"]]


def test_binary_figures_roc_reliability_heatmaps(binary_audit, binary_pages):
    html = binary_pages[1]
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    # scatter, reliability, ROC, one heatmap per class
    assert len(svgs) == 5
    roc = next(s for s in svgs if 'aria-label="ROC curves by subgroup"' in s)
    test = binary_audit[1]
    for site, rows in test.groupby("site"):
        auc = roc_auc_score(rows["label"] == "NV", rows["score_NV"])
        assert f"{site} (AUC {auc:.2f})" in roc
    reliability = next(s for s in svgs if 'aria-label="Reliability per band"' in s)
    for band in ("Tail", "Middle", "Head"):
        assert f">{band}<" in reliability
    assert all("<image" not in s for s in svgs)  # nothing rasterised


def test_multiclass_has_a_section_per_class(multiclass_audit, html_tools):
    Page = html_tools.Page
    _, _, classes, report, full, _ = multiclass_audit
    html = render_html(full)
    page = Page(html)
    headings = re.findall(r"<h2>Class (\w+)</h2>", html)
    assert headings == classes
    for class_value in classes:
        assert f"CDI within class {class_value}: {report.cdi_per_class[class_value]:.3f}" in (
            page.visible_text
        )
    assert len(re.findall(r'aria-label="Training coverage of class', html)) == 3
    assert "ROC curves by subgroup: none for this task" in page.visible_text
    assert "Reliability curves per band: none for this task" in page.visible_text
    total = sum(len(page.tables[f"scg-table-{k}"]) - 1 for k in (1, 2, 3))
    assert total == full.n_valid


def test_page_is_self_contained(binary_pages, html_tools):
    Page = html_tools.Page
    for html in binary_pages:
        page = Page(html)
        tags = {tag for tag, _ in page.tags}
        assert "script" not in tags and "iframe" not in tags and "object" not in tags
        for tag, attributes in page.tags:
            for name in ("href", "src", "xlink:href"):
                value = attributes.get(name) or ""
                assert not re.match(r"(https?:)?//", value), (tag, value)
            if tag == "img":
                assert (attributes.get("src") or "").startswith("data:")
            if tag == "link":
                assert attributes.get("rel") != "stylesheet"
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
        assert "@import" not in html and "@font-face" not in html
        assert not html.startswith("<?xml") and "<?xml" not in html


def test_svg_ids_are_unique_and_references_resolve(binary_pages):
    html = binary_pages[1]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    references = set(re.findall(r"url\(#([^)]+)\)", html)) | set(
        re.findall(r'href="#([^"]+)"', html)
    )
    assert references and references <= set(ids)
    per_figure = [
        set(re.findall(r'\bid="(fig\d+)-', s))
        for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    ]
    assert all(len(p) == 1 for p in per_figure) and len(set().union(*per_figure)) == len(per_figure)


def test_page_size_and_print_stylesheet(binary_pages):
    html = binary_pages[1]
    assert len(html.encode()) < 2_000_000
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL):
        assert len(svg.encode()) < 400_000
    print_css = html[html.index("@media print") :]
    assert "break-before: page" in print_css and "background: #fff" in print_css
    assert "break-inside: avoid" in print_css


def test_text_is_escaped(binary_audit, tmp_path, html_tools):
    report_from = html_tools.report_from
    train, test, classes = binary_audit[0].copy(), binary_audit[1].copy(), binary_audit[2]
    hostile = "<script>alert(1)</script>"
    train["site"] = train["site"].replace("palm", hostile)
    test["site"] = test["site"].replace("palm", hostile)
    html = render_html(report_from(train, test, classes, n_boot=0), context={"model": hostile})
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _sensitivity(descriptors: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {"descriptor": d, "class": c, "subgroup": s, "setting": setting}
        for d in descriptors
        for c in ("MEL", "NV")
        for s in ("arm", "leg", "trunk")
        for setting in ("0", "1")
    ]
    frame = pd.DataFrame(rows)
    frame["mean_score_change"] = rng.normal(0, 0.1, len(frame))
    frame["decision_flip_rate"] = rng.uniform(0, 0.3, len(frame))
    frame["n"] = rng.integers(1, 60, len(frame))
    return frame


def test_sensitivity_table_pools_subgroups_weighted_by_images(binary_audit, html_tools):
    Page, DESCRIPTORS = html_tools.Page, html_tools.DESCRIPTORS
    sensitivity = _sensitivity(DESCRIPTORS)
    page = Page(render_html(binary_audit[4], sensitivity=sensitivity))
    rows = page.tables["sensitivity-table"][1:]
    assert len(rows) == len(DESCRIPTORS) * 2 * 2
    for descriptor, class_value, setting, change, flips, n in rows:
        cells = sensitivity[
            (sensitivity["descriptor"] == descriptor)
            & (sensitivity["class"] == class_value)
            & (sensitivity["setting"] == setting)
        ]
        weights = cells["n"].to_numpy(float)
        assert float(change) == pytest.approx(
            np.sum(weights * cells["mean_score_change"]) / weights.sum(), abs=5e-4
        )
        assert float(flips) == pytest.approx(
            np.sum(weights * cells["decision_flip_rate"]) / weights.sum(), abs=5e-4
        )
        assert int(n.replace(",", "")) == int(weights.sum())
    assert 'aria-label="Descriptor sensitivity"' in render_html(
        binary_audit[3], sensitivity=sensitivity
    )
    without = Page(render_html(binary_audit[3])).visible_text
    assert "Descriptor sensitivity: not computed (no sensitivity table was given)" in without


def test_model_card_from_dict_dataclass_or_yaml(binary_audit, tmp_path, html_tools):
    Page = html_tools.Page
    report = binary_audit[3]
    (tmp_path / "card.yaml").write_text(
        "intended_use: Research audit of a dermoscopy classifier\n"
        "limitations:\n  - 1,200 test images\n  - one hospital\n"
    )
    as_dict = {"intended_use": "Research audit of a dermoscopy classifier",
               "limitations": ["1,200 test images", "one hospital"]}  # fmt: skip
    pages = [
        render_html(report, card=card)
        for card in (as_dict, ModelCard.from_mapping(as_dict), tmp_path / "card.yaml")
    ]
    cards = [
        p[p.index('<section id="model-card"') : p.index("</section>", p.index('id="model-card"'))]
        for p in pages
    ]
    assert cards[0] == cards[1] == cards[2]
    text = Page(cards[0]).visible_text
    assert "Intended use Research audit of a dermoscopy classifier" in text
    assert "1,200 test images one hospital" in text
    # Data, evaluation and caveats are derived from the report and marked as defaults.
    assert text.count("(default: not stated in the card, derived from the report)") == 3
    assert f"CDI {report.cdi:.3f} over {report.n_valid} of {len(report.table)} SCGs" in text


def test_cli_writes_html_and_card_into_report_json(binary_audit, tmp_path, capsys, html_tools):
    Page, DESCRIPTORS = html_tools.Page, html_tools.DESCRIPTORS
    train_csv, test_csv = binary_audit[5]
    (tmp_path / "card.yaml").write_text("caveats: scores from a pilot model\n")
    out = tmp_path / "out"
    code = main(
        [
            "report",
            *("--train", str(train_csv), "--test", str(test_csv)),
            *("--descriptor-columns", ",".join(DESCRIPTORS), "--label-column", "label"),
            *("--subgroup-column", "site", "--score-column", "score_NV"),
            *("--positive-class", "NV", "--n-boot", "20", "--no-plots", "--out", str(out)),
            *("--html", str(out / "report.html"), "--card", str(tmp_path / "card.yaml")),
        ]
    )
    assert code == 0
    assert f"wrote {out / 'report.html'}" in capsys.readouterr().out
    payload = json.loads((out / "report.json").read_text())
    card = payload["model_card"]
    assert card["caveats"] == {"text": ["scores from a pilot model"], "default": False}
    assert card["intended_use"]["default"] is True
    text = Page((out / "report.html").read_text()).visible_text
    assert f"is {payload['cdi']:.3f} (95 % CI {payload['cdi_interval'][0]:.3f}" in text
    assert f"Training data: {train_csv} (1,500 rows)" in text
    assert "Caveats scores from a pilot model" in text


def _fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_extras_are_imported_lazily():
    result = _fresh(
        "import sys, semcov_metrics, semcov_metrics.html_report, semcov_metrics.model_card\n"
        "import semcov_metrics.report_figures\n"
        "print(sorted(m for m in ('jinja2', 'matplotlib', 'yaml', 'torch') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


BLOCK_JINJA = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] == 'jinja2':\n"
    "            raise ImportError(name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


def test_missing_extra_names_it(binary_audit, tmp_path):
    train_csv, test_csv = binary_audit[5]
    python = BLOCK_JINJA + (
        "import numpy as np\n"
        "from semcov_metrics import semantic_fairness_report\n"
        "r = np.random.default_rng(0)\n"
        "report = semantic_fairness_report(train_descriptors=r.random((50, 2)),\n"
        "    train_labels=r.integers(0, 2, 50), train_subgroups=r.integers(0, 2, 50),\n"
        "    test_descriptors=r.random((50, 2)), test_labels=r.integers(0, 2, 50),\n"
        "    test_predictions=r.integers(0, 2, 50), test_subgroups=r.integers(0, 2, 50))\n"
        f"report.to_html({str(tmp_path / 'r.html')!r})\n"
    )
    result = _fresh(python)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'ImportError: the HTML report needs jinja2: pip install "semcov-metrics[html]"'
    )
    cli = BLOCK_JINJA + (
        "from semcov_metrics.cli import main\n"
        f"raise SystemExit(main(['report', '--train', {str(train_csv)!r}, '--test', "
        f"{str(test_csv)!r}, '--descriptor-columns', 'hair', '--label-column', 'label', "
        "'--subgroup-column', 'site', '--prediction-column', 'pred', '--n-boot', '0', "
        f"'--no-plots', '--out', {str(tmp_path / 'out')!r}, '--html', "
        f"{str(tmp_path / 'r.html')!r}]))\n"
    )
    result = _fresh(cli)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "python -m semcov_metrics report: error: the HTML report needs jinja2: "
        'pip install "semcov-metrics[html]"'
    )
    assert not Path(tmp_path / "r.html").exists()


def test_slope_counts_come_from_to_dict(binary_audit):
    full = binary_audit[4]

    class WithSlopeEntry(type(full)):
        def to_dict(self):
            entry = {"slope": self.coverage_error_slope, "n_samples": 1200, "n_clusters": 12}
            return {**super().to_dict(), "schema_version": 1, "coverage_error_slope": entry}

    report = WithSlopeEntry(**{f.name: getattr(full, f.name) for f in dataclasses.fields(full)})
    html = render_html(report)
    assert "(1,200 test images in 12 cells, interval clustered by cell)" in html
    assert "to report.json (schema version 1)" in html
    n = full.slope.n_samples
    assert f"({n:,} test images in {full.slope.n_clusters} cells," in render_html(full)


def test_training_set_tests_are_listed_lowest_q_first(binary_audit, html_tools):
    full = binary_audit[4]
    rows = html_tools.Page(render_html(full)).tables["descriptor-tests-table"][1:]
    expected = full.descriptor_tests.sort_values(["q_value", "descriptor"], kind="stable")
    assert [r[0] for r in rows] == [d.replace("_", " ") for d in expected["descriptor"]]
    assert [float(r[3]) for r in rows] == pytest.approx(expected["p_value"].tolist(), abs=5e-4)
