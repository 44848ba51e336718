"""Every code block of the READMEs and of docs/ runs as a reader would run it.

Blocks are found by ``markdown_blocks.read_blocks`` in ``README.md``, ``apps/README.md``,
``packages/*/README.md`` and ``docs/*.md``, so a block added to any of them is picked up without
touching this file. ``<!-- ci: ... -->`` lines above a block give smoke settings, generated
data, or the reason it cannot run here (``docs/code-blocks.md``); a block without one runs as
written. The blocks of one file run in file order in one temporary folder, as a reader who
follows the file runs them (an app reuses runs an earlier block finished; a run directory that
an earlier block wrote with other settings is an error the reader would meet too); each Python
block runs in a fresh interpreter, so it must be self-contained; a block also passes alone
(``-k``) unless its marker says it reads what an earlier one wrote.

Isolation: ``HOME`` is the temporary folder (``~/.cache/semcov``, ``~/data/...`` land there),
``uv run`` uses this checkout's environment without syncing it, the repository is linked in
(``apps/``, ``benchmarks/``), a block that leaves a new file or folder in the checkout fails,
and everything is deleted at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from block_fixtures import write_fixtures
from markdown_blocks import Block, read_blocks, shell_commands

REPO = Path(__file__).resolve().parents[2]
#: Folders of the checkout that shell blocks reach by relative path (``uv run apps/x.py``).
LINKED = ("apps", "benchmarks")


def documents() -> list[Path]:
    """The Markdown files whose code blocks are run."""
    found = [REPO / "README.md", REPO / "apps" / "README.md"]
    found += sorted((REPO / "packages").glob("*/README.md"))
    found += sorted((REPO / "docs").glob("*.md"))
    return [path for path in found if path.is_file()]


def _params() -> list:
    params = []
    for path in documents():
        for block in read_blocks(path):
            name = f"{path.relative_to(REPO).as_posix()}:{block.line}"
            marks = [pytest.mark.skip(reason=f"{name}: {why}") for why in block.values("skip")]
            if block.values("slow"):
                marks.append(pytest.mark.slow)
            params.append(pytest.param(block, id=name, marks=marks))
    return params


@pytest.fixture(scope="session")
def docs_tmp() -> Iterator[Path]:
    """One temporary folder for the whole session, deleted at its end."""
    with tempfile.TemporaryDirectory(prefix="semcov-docs-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def uv_cache() -> str:
    """uv's cache of the real user: ``HOME`` changes inside the blocks, the cache must not."""
    if os.environ.get("UV_CACHE_DIR"):
        return os.environ["UV_CACHE_DIR"]
    uv = shutil.which("uv") or os.environ.get("UV")
    if uv is None:
        pytest.fail("uv is not on PATH: the shell blocks run `uv run ...`")
    return subprocess.run(
        [uv, "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _workdir(block: Block, docs_tmp: Path) -> Path:
    """The folder shared by the blocks of the block's file (created with ``home/`` and links)."""
    folder = docs_tmp / _slug(block)
    if not folder.exists():
        (folder / "home").mkdir(parents=True)
        for name in LINKED:
            if (REPO / name).is_dir():
                (folder / name).symlink_to(REPO / name, target_is_directory=True)
    return folder


def _slug(block: Block) -> str:
    return block.path.relative_to(REPO).as_posix().replace("/", "_").removesuffix(".md")


def _environment(block: Block, folder: Path, docs_tmp: Path, uv_cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEMCOV_CACHE"}
    env.update(
        HOME=str(folder / "home"),
        DOCS_CHECKOUT=str(REPO),  # for markers of blocks that a reader runs in the checkout
        UV_PROJECT=str(REPO),
        UV_NO_SYNC="1",
        UV_CACHE_DIR=uv_cache,
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(docs_tmp / "matplotlib"),
        HYPOTHESIS_STORAGE_DIRECTORY=str(docs_tmp / "hypothesis"),  # else .hypothesis/ in the cwd
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TQDM_DISABLE="1",
    )
    # Bytecode: into the session's folder outside the checkout (tests/conftest.py), which the
    # blocks' interpreters share; without one, none is written (nothing lands in the checkout).
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(block.environment())
    return env


def _untracked_paths() -> set[str] | None:
    """Untracked and ignored paths of the checkout (``runs/``, ``data/`` ... would show here),
    or None outside a git checkout. Edits of tracked files are not looked at."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--ignored"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return {line[3:] for line in done.stdout.splitlines() if line[:2] in ("??", "!!")}


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return -1, f"timed out after {timeout:.0f} s (ci: timeout)\n{output}"
    return process.returncode, output


@pytest.mark.parametrize("block", _params())
def test_block_runs(block: Block, docs_tmp: Path, uv_cache: str) -> None:
    folder = _workdir(block, docs_tmp)
    write_fixtures(" ".join(block.values("fixture")).split(), folder / "home")
    code = block.runnable_code()
    if block.kind == "python":
        script = docs_tmp / f"{_slug(block)}-{block.line}.py"  # outside the reader's folder
        script.write_text(code, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", code]
    before = _untracked_paths()
    status, output = _run(
        command, folder, _environment(block, folder, docs_tmp, uv_cache), block.timeout()
    )
    assert status == 0, (
        f"{block.where}: the {block.language} block failed (exit status {status}).\n"
        f"--- what ran (in {folder}) ---\n{code}\n--- output (last 4000 characters) ---\n"
        f"{output[-4000:]}"
    )
    after = _untracked_paths()
    if before is not None and after is not None:
        created = sorted(after - before)
        assert not created, f"{block.where}: the block wrote into the repository: {created}"


# The conventions themselves, on small Markdown files written here.


def _markdown(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_markers_apply_to_the_next_block_only(tmp_path):
    path = _markdown(
        tmp_path,
        "Intro.\n\n<!-- ci: append: --preset smoke -->\n<!-- ci: env: A=1 B='x y' -->\n\n"
        "```bash\nuv run apps/a.py --folds 5 \\\n    --seeds 0 1   # the paper\n"
        "# a comment\n```\n\n"
        "```\nroot/\n  layout\n```\n\n```python\nprint(1)\n```\n",
    )
    shell, python = read_blocks(path)
    assert (shell.line, shell.language, python.line) == (6, "bash", 17)
    assert shell.runnable_code() == (
        "uv run apps/a.py --folds 5 --seeds 0 1 --preset smoke\n# a comment\n"
    )
    assert shell.environment() == {"A": "1", "B": "x y"}
    assert python.markers == () and python.runnable_code() == "print(1)\n"


def test_replace_and_skip_markers(tmp_path):
    path = _markdown(
        tmp_path,
        "<!-- ci: replace: --device cuda => --device cpu -->\n"
        "```sh\nrun --device cuda --x 'a # b'\n```\n"
        "<!-- ci: skip: needs a GPU -->\n```console\n$ nvidia-smi\noutput line\n```\n",
    )
    first, second = read_blocks(path)
    assert first.runnable_code() == "run --device cpu --x 'a # b'\n"
    assert second.values("skip") == ["needs a GPU"]
    assert second.runnable_code() == "nvidia-smi\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- ci: skp: typo -->\n```bash\nls\n```\n", "unknown ci marker 'skp'"),
        ("<!-- ci: skip: x -->\nSome text.\n```bash\nls\n```\n", "not followed by a code block"),
        ("<!-- ci: skip: x -->\n```\nlayout\n```\n", "not code"),
        ("```rust\nfn main() {}\n```\n", "language 'rust'"),
        ("```bash\nls\n", "never closed"),
    ],
)
def test_bad_markdown_is_an_error(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_blocks(_markdown(tmp_path, text))


def test_replace_must_match(tmp_path):
    block = read_blocks(_markdown(tmp_path, "<!-- ci: replace: A => B -->\n```bash\nls\n```\n"))[0]
    with pytest.raises(ValueError, match="'A' is not in the block"):
        block.runnable_code()


def test_continuations_are_joined():
    assert shell_commands("a \\\n  b \\\n  c\nd\n") == ["a b c", "d"]


def test_every_document_is_found():
    names = {path.relative_to(REPO).as_posix() for path in documents()}
    assert {"README.md", "apps/README.md"} <= names
    assert {f"packages/{p}/README.md" for p in ("semcov-metrics", "semcov-layers")} <= names
    assert any(name.startswith("docs/") for name in names)
