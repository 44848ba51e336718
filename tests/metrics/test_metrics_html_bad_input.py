"""Bad input of the HTML report: a path in a missing folder, a folder, a file that cannot be
written, a model card with unknown fields or bad YAML, a bad sensitivity table. Python raises a
clear error before any work; the command line exits 2 with one line naming the thing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from semcov_metrics.html_report import check_html_path, render_html
from semcov_metrics.model_card import ModelCard, load_card


def _cli(csvs: tuple[Path, Path], out: Path, *extra: str) -> subprocess.CompletedProcess:
    train, test = csvs
    argv = [
        *("report", "--train", str(train), "--test", str(test)),
        *("--descriptor-columns", "hair,pen_ink", "--label-column", "label"),
        *("--subgroup-column", "site", "--prediction-column", "pred", "--n-boot", "0"),
        *("--no-plots", "--out", str(out), *extra),
    ]
    return subprocess.run(
        [sys.executable, "-m", "semcov_metrics", *argv], capture_output=True, text=True, timeout=120
    )


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_html_path_in_a_missing_folder(binary_audit, tmp_path):
    report = binary_audit[3]
    target = tmp_path / "no_such_folder" / "report.html"
    with pytest.raises(FileNotFoundError, match=r"the folder .*no_such_folder does not exist"):
        report.to_html(target)
    line = _one_line(_cli(binary_audit[5], tmp_path / "out", "--html", str(target)))
    assert "no_such_folder does not exist" in line
    assert not (tmp_path / "out").exists()  # refused before any work


def test_html_path_that_is_a_folder(binary_audit, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        binary_audit[3].to_html(tmp_path)
    line = _one_line(_cli(binary_audit[5], tmp_path / "out", "--html", str(tmp_path)))
    assert f"HTML report {tmp_path} is a folder" in line


@pytest.fixture
def unwritable(tmp_path):
    """A file that cannot be written, even by root (read-only mode, and immutable under root)."""
    path = tmp_path / "locked.html"
    path.write_text("old page")
    path.chmod(0o444)
    immutable = False
    if shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    try:
        with path.open("ab"):
            pass
    except OSError:
        yield path
    else:
        pytest.skip("no way to make a file unwritable here (root without chattr +i)")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


def test_unwritable_html_file(binary_audit, tmp_path, unwritable):
    with pytest.raises(PermissionError, match=f"HTML report {unwritable} cannot be written"):
        binary_audit[3].to_html(unwritable)
    assert unwritable.read_text() == "old page"
    line = _one_line(_cli(binary_audit[5], tmp_path / "out", "--html", str(unwritable)))
    assert f"HTML report {unwritable} cannot be written" in line


def test_card_with_unknown_fields(binary_audit, tmp_path):
    card = tmp_path / "card.yaml"
    card.write_text("intended_use: triage\nowner: a team\nlicence: MIT\n")
    with pytest.raises(ValueError, match=r"unknown model card fields \['licence', 'owner'\]"):
        load_card(card)
    with pytest.raises(ValueError, match=r"unknown model card fields \['owner'\]"):
        render_html(binary_audit[3], card={"owner": "x"})
    line = _one_line(
        _cli(
            binary_audit[5],
            tmp_path / "out",
            "--html",
            str(tmp_path / "r.html"),
            "--card",
            str(card),
        )
    )
    assert f"{card}: unknown model card fields ['licence', 'owner']" in line
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("intended_use: [unclosed\n", ValueError, "not valid YAML"),
        ("- a list\n- not a mapping\n", ValueError, "must be a YAML mapping, got list"),
        ("limitations: 3\n", TypeError, "field 'limitations' must be text or a list of texts"),
    ],
)
def test_card_that_is_not_a_card(tmp_path, text, error, message):
    card = tmp_path / "card.yaml"
    card.write_text(text)
    with pytest.raises(error, match=message):
        load_card(card)


def test_card_file_missing_and_card_of_wrong_type(binary_audit, tmp_path):
    with pytest.raises(FileNotFoundError):
        load_card(tmp_path / "absent.yaml")
    with pytest.raises(TypeError, match="card must be a ModelCard, a mapping or a YAML path"):
        render_html(binary_audit[3], card=42)
    line = _one_line(
        _cli(binary_audit[5], tmp_path / "out", "--card", str(tmp_path / "absent.yaml"))
    )
    assert "absent.yaml" in line
    assert ModelCard.from_mapping({"caveats": None}).caveats == ()


def test_bad_sensitivity_and_context(binary_audit):
    report = binary_audit[3]
    frame = pd.DataFrame({"descriptor": ["hair"], "class": ["MEL"], "setting": ["1"]})
    with pytest.raises(ValueError, match=r"sensitivity lacks the columns \['subgroup', "):
        render_html(report, sensitivity=frame)
    with pytest.raises(TypeError, match="sensitivity must be a pandas DataFrame, got dict"):
        render_html(report, sensitivity={"descriptor": []})
    with pytest.raises(TypeError, match="context must be a mapping, got list"):
        render_html(report, context=["model"])


def test_check_html_path_leaves_no_file(tmp_path):
    target = tmp_path / "new.html"
    assert check_html_path(target) == target
    assert not target.exists()
