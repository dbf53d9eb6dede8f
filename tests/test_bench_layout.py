"""`make bench` runs `python bench/run.py`, which puts bench/ first on sys.path: no module there may
shadow a standard-library module (a `bench/platform.py` once broke pandas' `import platform`)."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_no_bench_module_shadows_the_standard_library() -> None:
    names = {p.stem for p in BENCH.glob("*.py")}
    names |= {p.name for p in BENCH.iterdir() if (p / "__init__.py").exists()}
    assert names, "bench/ has no modules"
    assert sorted(names & set(sys.stdlib_module_names)) == []
