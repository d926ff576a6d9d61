"""Tests of bench/norm_alternatives.py: its rewrites compute what the solution computes.

The benchmark's conclusion (no rewrite of the numpy solution reaches PyTorch) is only worth
something if every rewrite it times does the same arithmetic. Timing is not tested here.
"""

import numpy as np
import pytest

from bench import norm_alternatives as alt


@pytest.fixture(scope="module")
def chunks():
    return alt.RowChunks(parts=3)


@pytest.mark.parametrize("shape", [(2, 5), (7, 3), (64, 96)])
def test_rewrites_match_solution(shape, chunks):
    data = alt.inputs(*shape, seed=sum(shape))
    found = alt.candidates(chunks)
    assert {"solution", "numpy, BLAS sums", "numpy, row chunks on threads"} <= set(found)
    for which in (0, 1):
        expected = found["solution"][which](*data)
        for name, pair in found.items():
            got = pair[which](*data)
            assert len(got) == 4, name
            for want, have in zip(expected, got, strict=True):
                assert have.shape == want.shape, name
                np.testing.assert_allclose(have, want, rtol=1e-9, atol=1e-12, err_msg=name)


def test_row_chunks_cover_every_row_once():
    seen = []
    chunks = alt.RowChunks(parts=4)
    results = chunks.map(lambda rows: (rows.start, rows.stop), 10)
    for start, stop in results:
        seen.extend(range(start, stop))
    assert seen == list(range(10))
    assert len(results) == 4


def test_check_against_solution_rejects_a_wrong_rewrite(chunks):
    found = alt.candidates(chunks)

    def off_by_scale(x, gamma, beta, dout):
        out, dx, dgamma, dbeta = alt.solution_bn(x, gamma, beta, dout)
        return out, dx * (1 + 1e-6), dgamma, dbeta

    found["wrong"] = (off_by_scale, alt.solution_ln)
    with pytest.raises(AssertionError, match="wrong disagrees"):
        alt.check_against_solution(found, alt.inputs(8, 6))
    del found["wrong"]
    alt.check_against_solution(found, alt.inputs(8, 6))
