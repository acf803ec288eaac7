"""The significance layer against independent implementations (scipy, statsmodels) and by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from statsmodels.stats.sandwich_covariance import cov_hac, weights_uniform

from core.learn.significance import (
    FEW_CLUSTERS,
    IDENTICAL,
    TOO_FEW,
    ZERO_VARIANCE,
    benjamini_hochberg,
    bonferroni,
    expire_toward,
    family,
    holm,
    mean_test,
    mean_test_members,
    overlap_clusters,
    overlap_cross_sum,
    overlap_reach,
    p_for_t,
    paired_test,
    proportion_test,
    t_for_p,
    wilson,
)


def test_iid_test_is_the_one_sample_t_test() -> None:
    x = np.random.default_rng(1).normal(0.3, 1.0, size=40)
    ev = mean_test(x)
    ref = stats.ttest_1samp(x, 0.0)
    assert ev.method == "iid" and ev.n == ev.n_eff == 40
    assert math.isclose(ev.t, float(ref.statistic), rel_tol=1e-12)
    assert math.isclose(ev.p, float(ref.pvalue), rel_tol=1e-9)


def test_cluster_robust_matches_statsmodels_cluster_errors() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(8), 5)
    x = rng.normal(size=8)[groups] + rng.normal(size=40) * 0.5 + 0.2
    ev = mean_test(x, clusters=groups)
    fit = sm.OLS(x, np.ones((40, 1))).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert ev.method == "cluster" and ev.n_eff == 8
    assert math.isclose(ev.se, float(fit.bse[0]), rel_tol=1e-10)
    assert math.isclose(ev.t, float(fit.tvalues[0]), rel_tol=1e-10)
    assert math.isclose(ev.p, float(fit.pvalues[0]), rel_tol=1e-8)  # Student t with G - 1 df


def test_overlap_variance_is_hansen_hodrick_on_a_regular_grid() -> None:
    # Windows of 4 steps on a grid of 1: each overlaps the 3 after it, i.e. a uniform kernel at lag 3.
    rng = np.random.default_rng(3)
    n, lag = 300, 3
    x = np.convolve(rng.normal(size=n + lag), np.ones(lag + 1), mode="valid")[:n] + 0.1
    start = np.arange(n, dtype=np.int64) * 1000
    ev = mean_test(x, start_ms=start, end_ms=start + (lag + 1) * 1000)
    fit = sm.OLS(x, np.ones((n, 1))).fit()
    hh = cov_hac(fit, nlags=lag, weights_func=weights_uniform, use_correction=False)[0, 0]
    # statsmodels: long-run var / n; ours uses n - 1 in the denominator (the iid ddof=1 convention)
    assert math.isclose(ev.se**2 * (n - 1) / n, float(hh), rel_tol=1e-10)
    assert ev.method == "overlap" and ev.n_eff < n


def test_overlap_cross_sum_equals_the_pairwise_definition_on_irregular_windows() -> None:
    rng = np.random.default_rng(4)
    for n in (2, 7, 60):
        start = np.sort(rng.integers(0, 10_000, size=n)).astype(np.int64)
        end = start + rng.integers(0, 3_000, size=n)
        xc = rng.normal(size=n)
        brute = sum(
            xc[i] * xc[j] for i in range(n) for j in range(i + 1, n) if max(start[i], start[j]) < min(end[i], end[j])
        )
        shuffled = rng.permutation(n)
        assert math.isclose(overlap_cross_sum(xc[shuffled], start[shuffled], end[shuffled]), brute, abs_tol=1e-9)


def test_windows_that_do_not_overlap_give_the_iid_test() -> None:
    x = np.random.default_rng(5).normal(size=50)
    start = np.arange(50, dtype=np.int64) * 60_000
    ev = mean_test(x, start_ms=start, end_ms=start + 60_000)
    assert ev.method == "iid" and math.isclose(ev.t, float(stats.ttest_1samp(x, 0.0).statistic), rel_tol=1e-12)


def test_degenerate_samples_are_no_evidence_with_a_reason() -> None:
    assert mean_test([]).degenerate == TOO_FEW
    assert mean_test([0.5]).degenerate == TOO_FEW
    assert mean_test(np.full(20, -1.0)).degenerate == IDENTICAL
    # 20 identical stop-losses whose returns differ by rounding only: t would be about +-1e16
    losses = -1.2 / (np.full(20, 1.1) * np.linspace(3.0, 3.0 + 1e-14, 20))
    ev = mean_test(losses)
    assert ev.degenerate == ZERO_VARIANCE and ev.t == 0.0 and ev.p == 1.0 and not ev.passes(3.0)
    assert mean_test([1.0, 2.0, 3.0], clusters=[0, 0, 0]).degenerate == FEW_CLUSTERS
    assert mean_test([1.0, 2.0]).degenerate is None


def test_paired_test_is_the_test_of_differences() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=30), rng.normal(size=30)
    assert mean_test(a - b).t == paired_test(a, b).t
    assert math.isclose(paired_test(a, b).p, float(stats.ttest_rel(a, b).pvalue), rel_tol=1e-9)


def test_family_corrections_match_statsmodels() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 0.01, 5), rng.uniform(0, 1, 15)])
    for alpha in (0.0027, 0.05):
        assert (holm(p, alpha) == multipletests(p, alpha, method="holm")[0]).all()
        assert (bonferroni(p, alpha) == multipletests(p, alpha, method="bonferroni")[0]).all()
        assert (benjamini_hochberg(p, alpha) == multipletests(p, alpha, method="fdr_bh")[0]).all()


def test_a_family_is_held_to_the_level_of_one_test() -> None:
    assert math.isclose(p_for_t(3.0), 0.0026997960632601, rel_tol=1e-9)
    assert math.isclose(t_for_p(p_for_t(3.0)), 3.0, rel_tol=1e-12)
    rng = np.random.default_rng(8)
    big = mean_test(rng.normal(1.0, 1.0, 200))
    z = rng.normal(size=200)
    z = (z - z.mean()) / z.std(ddof=1)
    weak = mean_test(z + 3.2 / math.sqrt(200))  # t = 3.2 exactly
    assert math.isclose(weak.t, 3.2) and weak.passes(3.0) and big.passes(3.0)
    members = [weak, *[mean_test(z[::-1] * s) for s in (0.5, 1.0, 2.0, 3.0)]]  # 4 exact nulls (t = 0)
    # alone it passes; as the best of 5 it must clear alpha / 5, which t = 3.2 does not
    assert weak.p > p_for_t(3.0) / 5 and not family(members, 3.0).any()
    assert family([big, *members[1:]], 3.0).tolist() == [True, False, False, False, False]


def test_wilson_and_proportion_test_match_statsmodels_and_take_effective_counts() -> None:
    for wins, n in ((0, 10), (3, 10), (17, 20), (50, 100)):
        low, high = wilson(wins, n)
        ref = proportion_confint(wins, n, alpha=0.05, method="wilson")
        assert math.isclose(low, ref[0], abs_tol=1e-12) and math.isclose(high, ref[1], abs_tol=1e-12)
    _z, p = proportions_ztest(14, 20, value=0.5, prop_var=0.5)
    assert math.isclose(proportion_test(14, 20, 0.5), float(p), rel_tol=1e-10)
    # 20 trades in 4 bursts: the same win rate over 4 clusters is a much wider interval
    assert wilson(3.0, 4.0)[0] < wilson(15, 20)[0]


def test_overlap_clusters_chain_overlaps_and_bursts() -> None:
    start = np.array([0, 5, 30, 100, 8, 200], dtype=np.int64)
    end = np.array([10, 20, 40, 110, 9, 205], dtype=np.int64)
    assert overlap_clusters(start, end).tolist() == [0, 0, 1, 2, 0, 3]
    assert overlap_clusters(start, end, gap_ms=10).tolist() == [0, 0, 0, 1, 0, 2]


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (None, 1.5),
        (1_000, 1.5),
        (0, pytest.approx(1.2, abs=2e-6)),
    ],  # never recorded / recent / stale by ttl = 1000 ms at now = 1000
)
def test_expiry_steps_toward_the_default_only_when_stale(last: int | None, expected: object) -> None:
    assert expire_toward(1.5, 1.0, last, 1_000, 1_000, 0.2, (0.05, 5.0)) == expected
    assert expire_toward(1.004, 1.0, 0, 10_000, 1_000, 0.2, (0.05, 5.0)) == 1.004  # converged: stays


def test_members_of_a_prepared_population_give_the_windows_test() -> None:
    rng = np.random.default_rng(9)
    start = np.sort(rng.integers(0, 500_000, size=400)).astype(np.int64)
    end = start + rng.integers(30_000, 90_000, size=400)
    reach = overlap_reach(start, end)
    members = np.flatnonzero(rng.random(400) < 0.6)
    x = rng.normal(size=members.size)
    a = mean_test_members(x, members, reach)
    b = mean_test(x, start_ms=start[members], end_ms=end[members])
    assert a.method == b.method == "overlap"
    assert math.isclose(a.t, b.t, rel_tol=1e-12) and math.isclose(a.n_eff, b.n_eff, rel_tol=1e-12)
    assert mean_test_members(np.ones(3), np.arange(3), reach).degenerate == IDENTICAL


def test_a_family_can_be_held_to_a_stricter_level() -> None:
    z = np.random.default_rng(10).normal(size=300)
    z = (z - z.mean()) / z.std(ddof=1)
    ev = mean_test(z + 3.5 / math.sqrt(300))  # t = 3.5: passes alone and as the best of 5 at p(3)
    others = [mean_test(z[::-1] * s) for s in (1.0, 2.0, 3.0, 4.0)]
    assert family([ev, *others], 3.0)[0]
    assert not family([ev, *others], 3.0, alpha=p_for_t(3.0) / 2)[0]
