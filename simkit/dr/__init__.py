"""Disaster recovery: RTO and RPO per event from the scenario's ``dr:`` section (pure numpy model)."""

from simkit.dr.checks import dr_checks, dr_summary
from simkit.dr.model import COLUMNS, PHASES, evaluate, evaluate_event
from simkit.dr.sizing import solve, with_value

__all__ = [
    "evaluate",
    "evaluate_event",
    "dr_checks",
    "dr_summary",
    "solve",
    "with_value",
    "PHASES",
    "COLUMNS",
]
