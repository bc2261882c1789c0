"""The user documentation stays true: every ```python block in docs/*.md runs.

Rules, for whoever writes a page:

- Each page's ```python blocks run in order, in one namespace, in a fresh
  temporary working directory. A block written as a doctest (``>>>``) is run
  as one, so its shown output is checked.
- ```text, ```bash and other blocks are not run.
- ``<!-- no-test -->`` on the line just before a block leaves it out (for
  code that cannot run here, such as the TensorFlow original of an example).
- ``<!-- output -->`` on the line just before a ```text block makes it the
  expected standard output of the python block before it: the text must
  appear in that output (whitespace-insensitive, ``...`` matching anything).
- Relative links and images in docs/*.md and README.md must point to files
  that exist.

Pages are discovered when the tests are collected, so new pages are covered
without editing this file. The README's own blocks are tested in test_readme.py.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
OPTIONAL = {"matplotlib", "sklearn", "scipy", "pandas", "onnx", "onnxruntime", "dask", "dask_ml"}

try:  # plots in the docs render without a display
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # pragma: no cover - the [plot] extra is part of [test]
    pass


@dataclass
class Block:
    lang: str
    code: str
    line: int  # 1-based line of the first line of code in the page
    marker: str  # the HTML comment just before the fence, if any


_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")


def parse_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, lang = len(match["indent"]), match["fence"], match["lang"].lower()
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = previous if previous.startswith("<!--") else ""
        start, i = i + 1, i + 1
        while i < len(lines) and not (lines[i].strip().startswith(fence[0] * len(fence)) and lines[i].strip().strip(fence[0]) == ""):
            i += 1
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[start:i]]
        blocks.append(Block(lang, "\n".join(body) + "\n", start + 1, marker))
        i += 1
    return blocks


def _contains(actual: str, expected: str) -> bool:
    """Whether ``expected`` appears in ``actual``, ignoring whitespace, with ``...`` as a wildcard."""
    squash = lambda s: " ".join(s.split())  # noqa: E731
    parts = [re.escape(squash(part)) for part in expected.split("...")]
    return re.search(r"\s*.*?\s*".join(parts), squash(actual), re.S) is not None


def _run(block: Block, page: Path, namespace: dict) -> str:
    """Run one python block; returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if block.code.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(block.code, namespace, page.name, str(page), block.line - 1)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test, out=out.write, clear_globs=False)
            namespace.update(test.globs)
            if runner.failures:
                raise AssertionError(f"{page.name}:{block.line}: doctest failed\n{out.getvalue()}")
        else:
            # Padding makes tracebacks point at the page's own line numbers.
            exec(compile("\n" * (block.line - 1) + block.code, str(page), "exec"), namespace)
    return out.getvalue()


def test_there_are_pages():
    assert PAGES, "docs/ has no Markdown pages"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    printed = ""
    for block in parse_blocks(page.read_text()):
        if block.marker == "<!-- output -->":
            assert block.lang in ("text", ""), f"{page.name}:{block.line}: an output block must be ```text"
            assert _contains(printed, block.code), (
                f"{page.name}:{block.line}: the output shown is not what the code prints.\n"
                f"Shown:\n{block.code}\nPrinted:\n{printed}"
            )
            continue
        if block.lang not in ("python", "py", "python3") or block.marker == "<!-- no-test -->":
            continue
        try:
            printed = _run(block, page, namespace)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL and not os.environ.get("CI"):
                pytest.skip(f"{page.name} needs {exc.name}")
            raise
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@pytest.mark.parametrize("page", PAGES + [ROOT / "README.md"], ids=[p.name for p in PAGES] + ["README.md"])
def test_relative_links_resolve(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # links inside code are not links
    missing = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # http:, mailto:, in-page anchors
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"{page.name} links to missing files: {missing}"


def test_parser_rules():
    page = (
        "Intro\n\n```python\nx = 1\n```\n\n<!-- no-test -->\n```python\nraise SystemExit\n```\n"
        "<!-- output -->\n```text\n1\n```\n- item\n\n  ```python\n  y = 2\n  ```\n````markdown\n```python\n````\n"
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.code, b.line, b.marker) for b in blocks] == [
        ("python", "x = 1\n", 4, ""),
        ("python", "raise SystemExit\n", 9, "<!-- no-test -->"),
        ("text", "1\n", 13, "<!-- output -->"),
        ("python", "y = 2\n", 18, ""),
        ("markdown", "```python\n", 21, ""),
    ]
    assert _contains("Loss: 0.25\n  accuracy 0.9\n", "Loss: 0.25 accuracy ...")
    assert not _contains("Loss: 0.25", "Loss: 0.26")


def test_blocks_share_a_namespace_and_doctests_are_checked():
    namespace: dict = {}
    page = Path("page.md")
    assert _run(Block("python", "x = 2\nprint(x)\n", 3, ""), page, namespace) == "2\n"
    _run(Block("python", ">>> y = x + 1\n>>> y\n3\n", 7, ""), page, namespace)
    assert namespace["y"] == 3
    with pytest.raises(AssertionError, match="doctest failed"):
        _run(Block("python", ">>> y\n4\n", 11, ""), page, namespace)
    with pytest.raises(ZeroDivisionError) as info:
        _run(Block("python", "a = 1\nb = a / 0\n", 20, ""), page, namespace)
    assert info.traceback[-1].lineno + 1 == 21  # the page's own line number


def test_figure_script_writes_small_pngs(tmp_path, monkeypatch):
    if not os.environ.get("CI"):
        pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    monkeypatch.setattr(sys, "argv", ["make_figures.py", "--out", str(tmp_path)])
    with contextlib.redirect_stdout(io.StringIO()):
        runpy.run_path(str(DOCS / "make_figures.py"), run_name="__main__")
    written = {p.name for p in tmp_path.glob("*.png")}
    committed = {p.name for p in (DOCS / "images").glob("*.png")}
    assert len(written) >= 5 and written <= committed, f"run `python docs/make_figures.py`: {written - committed}"
    assert sum(p.stat().st_size for p in tmp_path.glob("*.png")) < 1_000_000
    assert sum((DOCS / "images" / name).stat().st_size for name in written) < 1_000_000
    for path in tmp_path.glob("*.png"):
        height, width, channels = imread(path).shape
        assert height >= 200 and width >= 400 and channels in (3, 4)
