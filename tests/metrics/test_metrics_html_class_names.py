"""The HTML page of a report computed on class codes, shown with the classes' names
(``class_names``), against the page of the same audit computed on the names; the context
entries the summary does not state, listed as audit details; signed sensitivity changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semcov_metrics.html_report import render_html


@pytest.fixture(scope="module")
def coded_and_named(binary_audit, html_tools):
    train, test, classes = binary_audit[0], binary_audit[1], binary_audit[2]
    codes = {name: k for k, name in enumerate(classes)}
    coded_train = train.assign(label=train["label"].map(codes))
    coded_test = test.assign(label=test["label"].map(codes), pred=test["pred"].map(codes))
    coded_test[f"score_{codes[classes[1]]}"] = test[f"score_{classes[1]}"]
    coded = html_tools.report_from(coded_train, coded_test, [0, 1], n_boot=0)
    named = html_tools.report_from(train, test, classes, n_boot=0)
    return coded, named, classes


def test_class_names_give_the_page_of_the_named_report(coded_and_named, html_tools):
    coded, named, classes = coded_and_named
    assert coded.cdi == pytest.approx(named.cdi, abs=1e-12)
    shown = html_tools.Page(render_html(coded, class_names=classes))
    expected = html_tools.Page(render_html(named))
    assert shown.visible_text == expected.visible_text
    assert shown.tables == expected.tables
    by_mapping = html_tools.Page(render_html(coded, class_names=dict(enumerate(classes))))
    assert by_mapping.visible_text == expected.visible_text
    assert "<h2>Class 0</h2>" in render_html(coded)  # without names: the codes


def test_class_names_and_sensitivity_rows(coded_and_named, html_tools):
    coded, _, classes = coded_and_named
    sensitivity = pd.DataFrame(
        {
            "descriptor": "hair",
            "class": [0, 0, 1, 1],
            "subgroup": "arm",
            "setting": ["0", "1", "0", "1"],
            "mean_score_change": [0.01234, -0.00004, -0.0004, 0.2],
            "decision_flip_rate": [0.0, 0.1, 0.2, 0.3],
            "n": [10, 10, 5, 5],
        }
    )
    page = html_tools.Page(render_html(coded, sensitivity=sensitivity, class_names=classes))
    rows = page.tables["sensitivity-table"][1:]
    # pooled per descriptor, class and setting (in order of appearance): one cell per pool
    assert [(r[1], r[2]) for r in rows] == [(c, s) for c in classes for s in ("0", "1")]
    assert [r[3] for r in rows] == ["+0.0123", "0.0000", "-0.0004", "+0.2000"]


@pytest.mark.parametrize(
    ("class_names", "error", "words"),
    [
        (["MEL"], ValueError, "class_names has 1 names"),
        ({0: "MEL"}, ValueError, "no name for the classes [1]"),
        (["MEL", "MEL"], ValueError, "name each class once"),
        ("MEL", TypeError, "class_names must be a mapping"),
    ],
)
def test_bad_class_names_are_named(coded_and_named, class_names, error, words):
    with pytest.raises(error, match="class_names") as raised:
        render_html(coded_and_named[0], class_names=class_names)
    assert words in str(raised.value)


def test_context_beyond_model_and_data_is_listed_as_details(coded_and_named, html_tools):
    named = coded_and_named[1]
    context = {"model": "CNN", "n_test": 98765, "git_commit": None, "decision_threshold": 0.4899}
    page = html_tools.Page(render_html(named, context=context))
    assert page.tables["details-table"] == [["n test", "98,765"], ["decision threshold", "0.490"]]
    summary = page.visible_text[: page.visible_text.index("statistic value")]
    assert "Model: CNN." in summary and "n_test" not in summary and "98,765" not in summary
    only_details = html_tools.Page(render_html(named, context={"fold": 3})).visible_text
    assert "described under “Audit details” at the end" in only_details
    assert "details-table" not in render_html(named, context={"model": "CNN"})


def test_long_names_may_break_at_underscores_only(coded_and_named):
    html = render_html(coded_and_named[1])
    assert "<td>blue_<wbr>white_<wbr>veil</td>" in html
    assert np.char.count(html, "overflow-wrap: anywhere") == 0
