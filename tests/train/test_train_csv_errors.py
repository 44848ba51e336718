"""Bad CSVs and bad image files on the command line: exit 2 with one line naming the column,
row or file, never a traceback; unreadable images are excluded and reported, or refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from semcov_train.cli import main


def _run_main(argv, capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


def _subprocess(argv) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "semcov_train", *argv], capture_output=True, text=True, timeout=600
    )
    return done.returncode, done.stderr.strip().splitlines()


def test_missing_label_column_and_escaping_path_exit_2_in_a_subprocess(derm_argv, derm_csv):
    code, lines = _subprocess(derm_argv("--label-column", "diagnosis"))
    assert code == 2
    assert len(lines) == 1, lines
    assert "missing column(s) ['diagnosis']" in lines[0] and "Traceback" not in lines[0]

    frame = pd.read_csv(derm_csv)
    frame.loc[4, "file"] = "../../etc/passwd"
    frame.to_csv(derm_csv, index=False)
    code, lines = _subprocess(derm_argv())
    assert code == 2
    assert len(lines) == 1, lines
    assert "row 5 (id 'IMG_0003_0')" in lines[0]
    assert "column 'file'" in lines[0] and "leaves the data root" in lines[0]


def _edit(csv_path, change) -> None:
    frame = pd.read_csv(csv_path)
    change(frame)
    frame.to_csv(csv_path, index=False)


CASES = {
    "empty label": (
        lambda f: f.__setitem__("dx", f["dx"].where(f.index != 6, None)),
        (),
        r"column 'dx' has empty labels \(rows \['IMG_0004_0'\]\)",
    ),
    "unknown positive class": (
        None,
        ("--positive-class", "MELANOMA"),
        r"positive_class: 'MELANOMA' is not a value of column 'dx'.*'MEL'",
    ),
    "descriptor outside [0, 1]": (
        lambda f: f.__setitem__("vessels", f["vessels"].where(f.index != 2, 1.7)),
        (),
        r"descriptor column 'vessels' must hold probabilities in \[0, 1\].*'IMG_0001_1'",
    ),
    "duplicate id": (
        lambda f: f.__setitem__("image_id", f["image_id"].where(f.index != 1, "IMG_0000_0")),
        (),
        r"duplicate id\(s\) in column 'image_id': \['IMG_0000_0'\]",
    ),
    "missing descriptor column": (
        None,
        ("--descriptor-columns", "pigment_network,milia"),
        r"missing column\(s\) \['milia'\]",
    ),
    "no descriptor columns": (None, ("--descriptor-columns", ""), r"descriptor_columns: .*needs"),
    "no csv": (None, ("--csv-path", "nowhere.csv"), r"csv_path: 'nowhere.csv' is not a file"),
    "bad split value": (
        lambda f: f.__setitem__("split", f["split"].where(f.index != 0, "later")),
        ("--split-column", "split"),
        r"split_column: column 'split' must hold train / val / test, got \['later'\]",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_csv_exits_2_with_one_line(case, derm_argv, derm_csv, capsys):
    change, options, message = CASES[case]
    if change is not None:
        _edit(derm_csv, change)
    code, lines = _run_main(derm_argv(*options), capsys)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("semcov-train: error: ")
    assert re.search(message, lines[0]), lines[0]


def _truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def test_truncated_jpeg_is_excluded_and_reported(derm, derm_csv):
    from semcov_train import train

    _truncate(derm_csv.parent / "images" / "IMG_0005_1.jpg")
    (derm_csv.parent / "images" / "IMG_0007_1.jpg").write_bytes(b"not an image at all")
    result = train(derm(method="erm", positive_class="MEL"))
    resolved = json.loads((result.run_dir / "config.json").read_text())["resolved"]
    assert resolved["n_train"] + resolved["n_val"] + resolved["n_test"] == 103
    report = resolved["data_report"]
    assert "excluded 2 (2 corrupt image)" in report
    ids = set(pd.read_parquet(result.run_dir / "predictions.parquet")["id"])
    assert not ids & {"IMG_0005_1", "IMG_0007_1"}


def test_truncated_jpeg_is_refused_by_flag(derm_argv, derm_csv, capsys):
    _truncate(derm_csv.parent / "images" / "IMG_0005_1.jpg")
    code, lines = _run_main(derm_argv("--bad-images", "raise"), capsys)
    assert code == 2
    error = [line for line in lines if line.startswith("semcov-train: error: ")]
    assert len(error) == 1 and "Traceback" not in "\n".join(lines)
    assert "IMG_0005_1.jpg" in error[0] and "1 sample(s) with a bad image" in error[0]
