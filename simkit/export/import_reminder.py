"""What `simkit run` reminds about a scenario written by `simkit import`: how many guesses are still in it
and the ones that move the verdict most (the load, service times, the CPU an HPA reads, requests, guessed
calls).

Read from the header comments the importer writes; a scenario the user edited keeps only the lines they
kept, so deleting a reviewed line silences it.
"""

from __future__ import annotations

from pathlib import Path

from simkit.export.import_serving import CPU_BOUND, CUSTOM_AS_RATE, MEMORY_FLAT

HEADER = "# Scenario imported by simkit"

# (substring of a header line, what it means for the verdict), most decisive first
_WEIGHTY = (
    (
        "no load generator in the manifests",
        "the load is a default (10 req/s), not yours: utilisation and P95 follow it",
    ),
    (
        "serving not in the manifest",
        "{n} workloads serve with simkit's default (concurrency 1, 20 ms): P95 follows it",
    ),
    (
        CPU_BOUND,
        "{n} CPU-scaled HPAs read a guessed CPU per request (CPU-bound for the whole service time): "
        "their replicas, cost and P95 follow it",
    ),
    (
        MEMORY_FLAT,
        "{n} HPAs' memory metric reads a constant (base_memory not stated: 0): it never scales them",
    ),
    (CUSTOM_AS_RATE, "{n} custom HPA metrics read as request rates: right only if that is what they count"),
    (
        "absent: assumed 0 (best effort)",
        "{n} resource requests assumed 0: node sizing and cost ignore those pods",
    ),
    ("no reference found", "{n} calls guessed (no env var or URL names them): route paths may be wrong"),
)


def import_reminder(path: str | Path | None) -> str | None:
    """Lines to print after a run of an imported scenario, or None for any other scenario."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(HEADER):
        return None
    header = [ln for ln in text.splitlines() if ln.startswith("#   - ")]
    body = [
        ln for ln in text.splitlines() if ln.startswith("# ") and "ASSUMPTION" in ln and "Review" not in ln
    ]
    lines = header + body
    out = [
        f"imported scenario: {len(header) + len(body)} assumptions and inferences still in effect; "
        "those that matter most:"
    ]
    for needle, what in _WEIGHTY:
        n = sum(needle in ln for ln in lines)
        if n:
            out.append(f"  - {what.format(n=n)}")
    if any("design goals" in ln for ln in body):
        out.append("  - the targets are the seed's (99.9% availability, 200 ms P95), not yours")
    return "\n".join(out)
