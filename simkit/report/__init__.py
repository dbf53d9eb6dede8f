"""Results people read: CI outputs (`ci`), scenario diffs (`diff`) and the HTML report (`html`).

Each module turns results that already exist (a `RunResult`, a Monte Carlo summary, a `run --out`
directory) into text for a reader; none of them simulates.
"""
