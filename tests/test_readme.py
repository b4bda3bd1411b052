"""Docs that run: every Python block of README.md is executed here.

- A block whose first line is ``# test_<name>.py`` or ``# conftest.py`` is a file. The file
  blocks of one README section (``## ...``) are written together into a pytester directory
  (blocks naming the same file are appended to it) and run with pytest in a subprocess, on the
  local backend (no API key). Every test in them must pass.
- Any other block is a script: it runs with ``python`` in a subprocess, with
  ``CIRCLEMIND_API_KEY`` and ``SMOOTH_BASE_URL`` pointing at the LocalServer of this test run.

The README's examples use ``https://example.com``. The tests cannot reach the internet, so
this module serves an equivalent "Example Domain" page on loopback and puts its URL in place of
``https://example.com`` in each block before running it.

It also checks that no Python block is left out, and that the options table lists every option
of ``settings.OPTIONS`` (flag, ini key, env var) and nothing the plugin does not have.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_smooth._core import constants as _constants
from pytest_smooth.plugin.settings import OPTIONS
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_URL = "https://example.com"
RUN_TIMEOUT = 300  # seconds for one inner pytest run or script; the machine may be busy
FILE_LINE = re.compile(r"^# ((?:test_\w+|conftest)\.py)\s*$")
TEST_FUNCTION = re.compile(r"^\s*(?:async\s+)?def (test_\w+)\(", re.MULTILINE)
FENCE = re.compile(r"^```(\S*)\s*$")
# Fence languages a README may use; a Python block under another name would escape the tests.
KNOWN_LANGUAGES = frozenset({"python", "bash", "text", "ini", "toml"})

# A stand-in for https://example.com (the same title, heading, text and link).
EXAMPLE_DOMAIN = """<!doctype html>
<html><head><title>Example Domain</title><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div>
<h1>Example Domain</h1>
<p>This domain is for use in illustrative examples in documents. You may use this domain in
literature without prior coordination or asking for permission.</p>
<p><a href="https://www.iana.org/domains/example">More information...</a></p>
</div></body></html>
"""


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    section: str
    line: int  # 1-based line of the opening fence
    language: str
    code: str

    @property
    def file_name(self) -> str | None:
        """The file this block is (from its ``# name.py`` first line), or None for a script."""
        first = self.code.split("\n", 1)[0]
        match = FILE_LINE.match(first)
        return match.group(1) if match else None


def parse_blocks(text: str) -> list[Block]:
    """Return the README's fenced blocks, each with the ``##`` section it is in."""
    blocks: list[Block] = []
    section = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        assert index < len(lines), f"README.md:{start + 1}: unclosed code block"
        blocks.append(Block(section, start + 1, fence.group(1), "\n".join(body) + "\n"))
        index += 1
    return blocks


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.language == "python"]
SCRIPTS = [b for b in PYTHON if b.file_name is None]
FILE_SECTIONS = sorted({b.section for b in PYTHON if b.file_name is not None})


def section_files(section: str) -> dict[str, str]:
    """Return the files of one README section (blocks naming the same file are appended)."""
    files: dict[str, str] = {}
    for block in PYTHON:
        name = block.file_name
        if block.section == section and name is not None:
            files[name] = files.get(name, "") + block.code
    return files


def localise(code: str, site_url: str) -> str:
    """Point the example at the loopback copy of example.com."""
    return code.replace(EXAMPLE_URL, site_url)


def table_rows(section: str) -> list[list[str]]:
    """Return the body rows of the first table in a README section, as lists of cells."""
    rows: list[list[str]] = []
    current = ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
        elif current == section and line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue  # the separator row
            rows.append(cells)
        elif current == section and rows:
            break
    return rows[1:]  # without the header


# --- the shape of the README -----------------------------------------------------------------


def test_every_python_block_is_run() -> None:
    """Each Python block is a file of a section run or a script; none is skipped."""
    assert len(PYTHON) >= 10
    unknown = {b.language for b in BLOCKS} - KNOWN_LANGUAGES
    assert not unknown, f"fences with languages the README tests do not know: {unknown}"
    covered = {b.line for b in SCRIPTS}
    for section in FILE_SECTIONS:
        covered |= {b.line for b in PYTHON if b.section == section and b.file_name is not None}
        assert any(name.startswith("test_") for name in section_files(section)), (
            f"section {section!r} has file blocks but no test_*.py to run them"
        )
    assert covered == {b.line for b in PYTHON}


def test_the_readme_keeps_its_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in text
    assert "bash scripts/example.sh" in text
    assert "pip install" in text and "pytest-smooth[server]" in text
    assert (README.parent / "docs" / "report.png").is_file()
    assert "(docs/report.png)" in text


def test_the_options_table_lists_every_option() -> None:
    rows = {row[0].strip("`"): row for row in table_rows("Options")}
    assert len(rows) == len(OPTIONS), sorted(rows)
    for opt in OPTIONS:
        assert opt.flag in rows, f"{opt.flag} is missing from the README's options table"
        _cli, ini, env, default, meaning = rows[opt.flag]
        assert ini == f"`{opt.ini}`"
        assert env == (f"`{opt.env}`" if opt.env else "")
        assert default and meaning


def test_the_readme_names_only_real_options() -> None:
    """Flags, ini keys and environment variables that the README names exist in the code."""
    text = README.read_text(encoding="utf-8")
    flags = {opt.flag for opt in OPTIONS}
    named_flags = set(re.findall(r"--smooth-[a-z-]+[a-z]", text))
    assert named_flags <= flags, named_flags - flags
    ini_keys = {opt.ini for opt in OPTIONS}
    for block in BLOCKS:
        if block.language == "ini":
            named = set(re.findall(r"^(smooth_\w+)\s*=", block.code, re.MULTILINE))
            assert named <= ini_keys, named - ini_keys
    env_names = {
        value
        for name, value in vars(_constants).items()
        if name.startswith("ENV_") and isinstance(value, str)
    } | {opt.env for opt in OPTIONS if opt.env}
    named_env = set(re.findall(r"\bSMOOTH_[A-Z_]+[A-Z]\b", text))
    named_env.discard("SMOOTH_TELEMETRY")  # not ours: smooth-py's (not named in the README)
    assert named_env <= env_names, named_env - env_names


def test_parse_blocks_keeps_sections_and_lines() -> None:
    text = "# T\n## One\n```python\n# test_a.py\nx = 1\n```\n## Two\n```bash\nls\n```\n"
    blocks = parse_blocks(text)
    assert [(b.section, b.line, b.language, b.file_name) for b in blocks] == [
        ("One", 3, "python", "test_a.py"),
        ("Two", 8, "bash", None),
    ]


# --- running the blocks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the "Example Domain" page on loopback; return its root URL (no trailing slash)."""
    site = StaticSite(tmp_path_factory.mktemp("example-domain"))
    site.page("index.html", EXAMPLE_DOMAIN)
    try:
        yield site.url
    finally:
        site.close()


@pytest.fixture
def inner_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clean the environment for the inner runs, keeping Playwright's browsers findable."""
    clean_env(monkeypatch)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    monkeypatch.setenv("SMOOTH_TELEMETRY", "off")  # smooth-py: no calls home from the SDK block


@pytest.mark.browser
@pytest.mark.usefixtures("inner_env")
@pytest.mark.parametrize("section", FILE_SECTIONS)
def test_readme_files(section: str, pytester: pytest.Pytester, example_domain: str) -> None:
    """The section's test files and conftest pass with pytest on the local backend."""
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    files = {name: localise(code, example_domain) for name, code in section_files(section).items()}
    write_ini(pytester)
    for name, code in files.items():
        (pytester.path / name).write_text(code, encoding="utf-8")
    tests = [
        t
        for name, code in files.items()
        if name != "conftest.py"
        for t in TEST_FUNCTION.findall(code)
    ]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=RUN_TIMEOUT)
    outcomes = result.parseoutcomes()
    text = "\n".join(result.outlines[-60:])
    assert result.ret == 0, f"README section {section!r} failed:\n{text}"
    assert outcomes.get("passed") == len(tests), f"expected {tests} to pass:\n{text}"


@pytest.mark.browser
@pytest.mark.usefixtures("inner_env")
@pytest.mark.parametrize("block", SCRIPTS, ids=[f"{b.section}-line{b.line}" for b in SCRIPTS])
def test_readme_scripts(
    block: Block,
    tmp_path: Path,
    example_domain: str,
    local_server: LocalServer,
) -> None:
    """The script runs to its end against the local backend (the env the README names)."""
    script = tmp_path / f"readme_line{block.line}.py"
    script.write_text(localise(block.code, example_domain), encoding="utf-8")
    env = {
        **os.environ,
        "CIRCLEMIND_API_KEY": local_server.api_key,
        "SMOOTH_BASE_URL": local_server.base_url,
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"README.md:{block.line} ({block.section}) failed:\n{done.stdout}\n{done.stderr}"
    )


def test_the_extract_rules_are_quoted_faithfully() -> None:
    """The README's quote of the extraction rules is the docstring of server/extract.py."""
    from pytest_smooth.server.extract import reader as extract

    source = " ".join((extract.__doc__ or "").replace("``", "`").split())
    quote = [
        line[1:].strip()
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith(">")
    ]
    fragments = [" ".join(part.split()) for part in " ".join(quote).split("[...]")]
    assert len(fragments) > 5
    for fragment in fragments:
        assert fragment.strip(" ;,.") in source, f"not in server/extract.py: {fragment!r}"
