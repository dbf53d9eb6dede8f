"""notebooks/04-export.ipynb runs top to bottom without errors (nbclient, kernel python3)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04-export.ipynb"
SEED = ROOT / "examples" / "seed-manifests"  # shipped: a fresh clone runs the notebook without ../shared


def test_notebook_reads_nothing_outside_the_repository() -> None:
    """Issue 13: the notebook's input is in the repository; nothing skips when ../shared is absent."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "shared" not in code and "root.parent" not in code
    assert '"examples" / "seed-manifests"' in code
    assert len(list(SEED.glob("block-*.yaml"))) == 19
    assert "infrastructure-overview.md" in (SEED / "README.md").read_text()


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
