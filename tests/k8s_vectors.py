"""Run Kubernetes' own test cases (transcribed as JSON vectors) through simkit's controllers.

Usage: python tests/k8s_vectors.py hpa FILE
       python tests/k8s_vectors.py ca FILE
       python tests/k8s_vectors.py rollout FILE
       python tests/k8s_vectors.py karpenter FILE

Each vector is checked by the adapter module `vectors_<kind>.py` beside this file, whose
`check(vector) -> str | None` returns None when simkit agrees, else "expected ..., got ...".
Prints each failing vector with its name, then `N passed, M failed`; exits 1 if any failed.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

ADAPTERS = {
    "hpa": "vectors_hpa",
    "ca": "vectors_ca",
    "rollout": "vectors_rollout",
    "karpenter": "vectors_karpenter",
}


def load(path: Path) -> list[dict[str, Any]]:
    """The vectors of a file: a JSON list, or an object with a "vectors" list (rollout_vectors.json)."""
    data = json.loads(path.read_text())
    vectors: list[dict[str, Any]] = data["vectors"] if isinstance(data, dict) else data
    return vectors


def vector_name(vector: dict[str, Any]) -> str:
    """A vector's name (`name` in the HPA/CA files, `id` in the rollout file)."""
    return str(vector.get("name") or vector.get("id") or "?")


def run(controller: str, path: Path) -> tuple[int, int]:
    """Check every vector of `path` with the adapter for `controller`; return (passed, failed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    adapter = importlib.import_module(ADAPTERS[controller])
    vectors = load(path)
    passed = failed = 0
    for vector in vectors:
        name = vector_name(vector)
        try:
            problem = adapter.check(vector)
        except Exception as exc:  # a crash on a vector is a failure of that vector, not of the harness
            problem = f"raised {type(exc).__name__}: {exc}"
        if problem is None:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name} [{vector.get('kind', vector.get('function', '?'))}]: {problem}")
    return passed, failed


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ADAPTERS:
        print("usage: k8s_vectors.py {hpa|ca|rollout|karpenter} FILE", file=sys.stderr)
        return 2
    path = Path(argv[1])
    if not path.is_file():
        print(f"k8s_vectors: no such file: {path}", file=sys.stderr)
        return 2
    passed, failed = run(argv[0], path)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
