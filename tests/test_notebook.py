"""The softmax lesson notebook executes top to bottom in a fresh Jupyter kernel, headless.

Any error (including the notebook's own ``assert`` cells) fails the test, so
the lesson cannot rot. The kernel is this interpreter (a kernel spec written
to a temporary JUPYTER_PATH), so it sees the logitnet under test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "softmax_lesson.ipynb"

if os.environ.get("CI"):  # in CI a missing dependency is a failure, not a skip
    import ipykernel  # noqa: F401
    import matplotlib  # noqa: F401
    import nbclient
    import nbformat
else:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")


@pytest.fixture()
def kernel_env(tmp_path, monkeypatch):
    """A python3 kernel spec for this interpreter, and Jupyter/IPython state kept in tmp_path."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (logitnet tests)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_lesson_notebook_executes_without_error(kernel_env):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(kernel_env)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream" and out.name == "stdout")
    # The lesson's key results are printed: the naive softmax overflows, logitnet's does not.
    assert "my_softmax: [nan  0.]" in text
    assert "ln.softmax: [1. 0.]" in text
    assert "from logits: [1000.]" in text
    # Its figures were displayed (learning curves, regions, probabilities, confusion matrix, demo).
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 5


def test_lesson_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # The lesson's equations (1) to (4) are all there.
    markdown = "".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for tag in range(1, 5):
        assert f"\\tag{{{tag}}}" in markdown
