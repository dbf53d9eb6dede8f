"""notebooks/03-failures-and-dr.ipynb (DR part) runs top to bottom with a real kernel and draws its plots."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03-failures-and-dr.ipynb"


def test_dr_notebook_executes_without_errors():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "RTO of region_failure P95" in text and "not reachable" in text
