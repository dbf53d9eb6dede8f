"""The tutorial notebooks run top to bottom without errors (executed with a real kernel)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize(
    ("name", "plots"),
    [
        ("01-quickstart.ipynb", 3),
        ("02-autoscaling.ipynb", 2),
        ("05-deployment-plans.ipynb", 3),
        ("06-karpenter.ipynb", 2),  # one simulated day per case (DAYS = 1 in the notebook)
        ("07-planning-at-scale.ipynb", 1),
    ],
)
def test_notebook_executes(name: str, plots: int):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert errors == []
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= plots
