"""notebooks/04-export.ipynb runs top to bottom without errors (nbclient, kernel python3)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04-export.ipynb"
SEED = ROOT.parent / "shared" / "seed" / "infrastructure-overview.md"


@pytest.mark.skipif(not SEED.exists(), reason="shared/seed not beside the repository")
def test_export_notebook_runs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert errors == []
    text = "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream"
    )
    assert "YAML blocks extracted" in text
    assert "--nodes=3:20:application-pool" in text  # the CA flags read from the seed went out again
    assert "+++ export" in text  # the diff was shown
