"""Shortcuts taken for speed give what the general code gives (no timings here: those are in bench/)."""

from __future__ import annotations

import numpy as np
import pytest

from simkit.traffic import queueing_latency as ql


@pytest.mark.parametrize(("mean", "cv"), [(0.1, 1.0), (0.04, 0.8), (0.2, 0.5), (0.05, 2.0), (0.003, 0.3)])
def test_one_visit_is_the_fft_sum_of_one_visit(mean: float, cv: float) -> None:
    fft, direct = ql._ServiceSum([(mean, cv)]), ql._OneService(mean, cv)
    assert isinstance(ql.service_sum(((mean, cv),)), ql._OneService)
    assert direct.h == fft.h
    np.testing.assert_array_equal(direct.x, fft.x)
    np.testing.assert_allclose(direct.f, fft.f, rtol=0, atol=1e-15)
    assert not direct.f.flags.writeable and not direct.x.flags.writeable
    end = fft.x[-1]
    xs = np.concatenate(
        [[-1.0, 0.0, fft.h / 4, end, 2 * end], np.linspace(0, 3 * end, 4001), fft.x[1::97] * 1.0000001]
    )
    np.testing.assert_allclose(direct.cdf(xs), fft.cdf(xs), rtol=0, atol=1e-15)
    for q in (-1.0, 0.0, 1e-12, 0.001, 0.5, 0.95, 0.99, 1 - 5e-6, 1 - 1e-9, 1 - 1e-14, 1.0):
        assert direct.quantile(q) == fft.quantile(q), q


def test_a_deterministic_or_repeated_visit_uses_the_fft() -> None:
    assert isinstance(ql.service_sum(((0.1, 0.0),)), ql._ServiceSum)
    assert isinstance(ql.service_sum(((0.1, 1.0), (0.1, 1.0))), ql._ServiceSum)
