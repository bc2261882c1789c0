"""The README's code runs as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import numpy as np

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


def test_thirty_second_example_runs_and_learns(capsys):
    blocks = [b for b in _python_blocks() if ">>>" not in b]
    assert blocks, "the README lost its example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    history = namespace["history"]
    assert history.history["accuracy"][-1] > 0.95
    np.testing.assert_allclose(namespace["probabilities"].sum(axis=1), 1.0, atol=1e-5)
    assert "Total params" in capsys.readouterr().out


def test_readme_doctests_pass():
    blocks = [b for b in _python_blocks() if ">>>" in b]
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner()
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {i}", "README.md", 0))
    assert runner.failures == 0


def test_readme_commands_match_ci():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_command = ci.strip().splitlines()[-1]
    assert test_command in README
