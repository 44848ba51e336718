"""Fenced code blocks of the project's Markdown files and the ``<!-- ci: ... -->`` lines that tell
the documentation test how to run them (the conventions are in ``docs/code-blocks.md``).

A block is a fence of three or more backticks or tildes with an info string; ``bash``, ``sh``,
``shell`` and ``console`` blocks run in bash, ``python`` and ``py`` blocks in a fresh interpreter.
A fence without a language (folder layouts, formulas) or with a data language (``text``,
``json``, ``csv``, ...) is not code. Any other language is an error, so a new kind of block is
never left out unnoticed.

Directly above a block (blank lines allowed in between) any number of lines of the form
``<!-- ci: KEY: VALUE -->`` adjust how it runs:

- ``skip: REASON``: the block is not run; the test reports it as skipped with the reason;
- ``slow: REASON``: the block runs, marked ``slow`` (deselect with ``-m "not slow"``);
- ``append: ARGS``: ARGS is added to every command of the block (the last value of an option
  wins, so ``--preset smoke`` overrides the block's own ``--preset``);
- ``replace: OLD => NEW``: OLD is replaced by NEW in the block (continuation lines joined first);
- ``env: NAME=VALUE ...``: extra environment variables;
- ``fixture: NAME ...``: generated stand-ins of the real data (see ``block_fixtures.py``);
- ``timeout: SECONDS``: the block's time limit (default 1800 s, a guard against a hang).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DATA_LANGUAGES",
    "MARKER_KEYS",
    "PYTHON_LANGUAGES",
    "SHELL_LANGUAGES",
    "Block",
    "read_blocks",
    "shell_commands",
]

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
PYTHON_LANGUAGES = frozenset({"python", "py"})
#: Fences that hold no code: diagrams, file listings, data.
DATA_LANGUAGES = frozenset({"", "text", "txt", "json", "csv", "toml", "yaml", "markdown", "md"})
MARKER_KEYS = ("skip", "slow", "append", "replace", "env", "fixture", "timeout")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*ci:\s*(?P<key>[a-z]+)\s*:\s*(?P<value>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block and its ``ci`` markers.

    Attributes:
        path: the Markdown file.
        line: 1-based line of the opening fence.
        language: the first word of the info string, lower case.
        code: the block's text, as a reader sees it.
        markers: ``(key, value)`` pairs of the ``<!-- ci: ... -->`` lines above it, in order.
    """

    path: Path
    line: int
    language: str
    code: str
    markers: tuple[tuple[str, str], ...] = field(default=())

    def values(self, key: str) -> list[str]:
        """Every value given for ``key``, in order."""
        return [value for k, value in self.markers if k == key]

    @property
    def kind(self) -> str:
        """``"shell"``, ``"python"`` or ``"data"``."""
        if self.language in SHELL_LANGUAGES:
            return "shell"
        if self.language in PYTHON_LANGUAGES:
            return "python"
        return "data"

    def runnable_code(self) -> str:
        """The code the test runs: replacements and appended arguments applied."""
        if self.kind == "python":
            code = self.code
            for old, new in self.replacements():
                code = _replace(code, old, new, self)
            return code
        lines = shell_commands(self.code, console=self.language == "console")
        text = "\n".join(lines)
        for old, new in self.replacements():
            text = _replace(text, old, new, self)
        extra = " ".join(self.values("append"))
        if extra:
            text = "\n".join(_append(line, extra) for line in text.split("\n"))
        return text + "\n"

    def replacements(self) -> list[tuple[str, str]]:
        pairs = []
        for value in self.values("replace"):
            old, sep, new = value.partition("=>")
            if not sep or not old.strip():
                raise ValueError(f"{self.where}: replace marker needs 'OLD => NEW', got {value!r}")
            pairs.append((old.strip(), new.strip()))
        return pairs

    def environment(self) -> dict[str, str]:
        env = {}
        for value in self.values("env"):
            for item in shlex.split(value):
                name, sep, text = item.partition("=")
                if not sep or not name:
                    raise ValueError(f"{self.where}: env marker needs NAME=VALUE, got {item!r}")
                env[name] = text
        return env

    def timeout(self, default: float = 1800.0) -> float:
        values = self.values("timeout")
        return float(values[-1]) if values else default

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _replace(text: str, old: str, new: str, block: Block) -> str:
    if old not in text:
        raise ValueError(f"{block.where}: replace marker: {old!r} is not in the block")
    return text.replace(old, new)


def shell_commands(code: str, *, console: bool = False) -> list[str]:
    """The lines of a shell block with backslash continuations joined into one line each.

    ``console`` blocks keep only the lines after a ``$ `` prompt (the rest is output).
    """
    lines = code.splitlines()
    if console:
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    joined: list[str] = []
    pending = ""
    for line in lines:
        if pending:
            line = pending + " " + line.strip()
            pending = ""
        stripped = line.rstrip()
        if stripped.endswith("\\") and not stripped.lstrip().startswith("#"):
            pending = stripped[:-1].rstrip()
            continue
        joined.append(line)
    if pending:
        joined.append(pending)
    return joined


def _comment_start(line: str) -> int:
    """Index of an unquoted `` #`` comment in a shell line, or ``len(line)``."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return i
    return len(line)


def _append(line: str, extra: str) -> str:
    cut = _comment_start(line)
    command = line[:cut].rstrip()
    if not command.strip():
        return line
    return f"{command} {extra}"


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file with the ``ci`` markers written above it.

    Raises:
        ValueError: an unclosed fence, an unknown language or marker key, or a marker that is
            not followed by a code block.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    markers: list[tuple[str, str]] = []
    marker_line = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = _MARKER.match(line)
        if marker:
            key = marker["key"]
            if key not in MARKER_KEYS:
                raise ValueError(f"{path}:{i + 1}: unknown ci marker {key!r} (use {MARKER_KEYS})")
            markers.append((key, marker["value"]))
            marker_line = marker_line or i + 1
            i += 1
            continue
        fence = _FENCE.match(line)
        if not fence:
            if line.strip() and markers:
                raise ValueError(f"{path}:{marker_line}: ci marker not followed by a code block")
            i += 1
            continue
        mark, indent = fence["fence"], len(fence["indent"])
        language = (fence["info"].split() or [""])[0].lower()
        end = i + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(mark) and set(lines[end].strip()) == {mark[0]}
        ):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{i + 1}: code block is never closed")
        body = "\n".join(
            text[indent:] if text[:indent].isspace() else text for text in lines[i + 1 : end]
        )
        block = Block(path, i + 1, language, body + "\n", tuple(markers))
        if block.kind == "data":
            if language not in DATA_LANGUAGES:
                raise ValueError(
                    f"{path}:{i + 1}: code block language {language!r} is neither run nor "
                    f"known as data; use one of {sorted(SHELL_LANGUAGES | PYTHON_LANGUAGES)}"
                )
            if markers:
                raise ValueError(f"{path}:{marker_line}: ci marker above a block that is not code")
        else:
            blocks.append(block)
        markers, marker_line = [], 0
        i = end + 1
    if markers:
        raise ValueError(f"{path}:{marker_line}: ci marker not followed by a code block")
    return blocks
