"""The walkthrough notebook runs from start to end, and is committed without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "walkthrough.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"cells {dirty} of {NOTEBOOK.name} have outputs; strip them before committing "
                       "(nbstripout notebooks/walkthrough.ipynb, or Clear All Outputs and save)")


def test_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIB_NOTEBOOK_QUICK", "1")  # the bundled IRA slice, not the month: fast, no ../shared
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 4  # a timeline and a network for each part
    text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "using ira_2016-10-06.csv.gz" in text
    found = re.search(r"campaigns found: simulated (\d+), IRA (\d+)", text)
    assert found is not None, text[-2000:]
    assert int(found[1]) > 0 and int(found[2]) > 0
    assert not list(tmp_path.iterdir())  # databases go to a temporary folder, not the working one
