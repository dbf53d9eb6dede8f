"""Monte Carlo replications: reproducible per seed, whatever the number of workers."""

import pandas as pd

from simkit.replicate import probability_met, replicate
from simkit.scenario.loader import load_scenario


def test_replications_do_not_depend_on_the_number_of_workers():
    sc = load_scenario("scenarios/spot-storm.yaml", overrides={"simulation.duration": "6h"})
    serial = replicate(sc, seeds=[3, 1, 2], n_jobs=1, progress=False)
    parallel = replicate(sc, seeds=[1, 2, 3], n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(serial, parallel)
    assert list(serial["seed"]) == [1, 2, 3]
    assert serial["nodes_interrupted"].nunique() > 1  # the seeds really differ


def test_probability_met_is_a_share_per_target():
    sc = load_scenario(overrides={"simulation.duration": "2h"})
    runs = replicate(sc, seeds=range(2), n_jobs=1, progress=False)
    p = probability_met(runs)
    assert p["all targets"] == 1.0 and p["availability"] == 1.0
    assert set(p.index) >= {"all targets", "availability", "cost per month"}
