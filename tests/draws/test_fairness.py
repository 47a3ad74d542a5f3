"""Statistical fairness of the draw protocol dsr-sha256-v1, with fixed seeds (never flaky).

Seeds are derived deterministically: seed_n = HMAC-SHA256(key = b"dsr fairness", msg = label
0x1F n as 8 bytes big-endian), standing in for the HMAC seeds of real draws. Each test compares
observed counts with the uniform expectation by a chi-square goodness-of-fit test at
alpha = 1e-4. As the seeds are fixed, the outcome is the same on every run; alpha says how
unlikely a fair protocol would have been to fail with a freshly chosen set of seeds.

Critical values come from the Wilson-Hilferty approximation
    chi2_{1-alpha}(k) ~ k * (1 - 2/(9k) + z_{1-alpha} * sqrt(2/(9k)))**3,
z_{1-alpha} = 3.7190 being the standard normal quantile (statistics.NormalDist); for k = 119
it gives 185.19. test_critical_values_are_right checks each approximation against the exact
tail probability, computed from the regularised incomplete gamma function with the standard
library only: the exact 1e-4 critical value for 119 degrees of freedom is 185.09, and at the
degrees of freedom used here the approximation is slightly conservative (its exact tail is
between 0.6e-4 and 1e-4; for 2 degrees of freedom the exact -2 ln(alpha) = 18.42 is used).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
from collections import Counter
from fractions import Fraction
from statistics import NormalDist

import pytest

from app.draws import protocol as p

ALPHA = 1e-4
N_UNIFORM = 100_000  # draws of 3 out of 10: 120 subsets, about 833 expected in each
N_STRATIFIED = 20_000


def seeds(label: str, count: int):
    for n in range(count):
        message = label.encode() + b"\x1f" + n.to_bytes(8, "big")
        yield hmac.new(b"dsr fairness", message, hashlib.sha256).digest()


def critical_value(df: int, alpha: float = ALPHA) -> float:
    """Wilson-Hilferty approximation of the chi-square (1 - alpha) quantile."""
    z = NormalDist().inv_cdf(1 - alpha)
    h = 2 / (9 * df)
    return df * (1 - h + z * math.sqrt(h)) ** 3


def chi_square_tail(x: float, df: int) -> float:
    """P(X >= x) for X ~ chi-square(df): 1 - P(df/2, x/2), regularised lower incomplete gamma
    by its power series (enough precision for tails down to 1e-10 at these sizes)."""
    a, z = df / 2, x / 2
    term = total = 1 / a
    n = 0
    while term > total * 1e-17:
        n += 1
        term *= z / (a + n)
        total += term
    return 1 - total * math.exp(-z + a * math.log(z) - math.lgamma(a))


def chi_square(observed: Counter, cells, expected: float) -> float:
    return sum((observed[cell] - expected) ** 2 / expected for cell in cells)


def inclusion_statistic(included: Counter, ids, draws: int, k: int) -> float:
    """Chi-square statistic (len(ids) - 1 degrees of freedom) of how often each of n candidates
    was among the k drawn. The inclusions of one draw are dependent (exactly k of n), so the
    plain sum (O - E)^2 / E is rescaled: with p = k/n, Cov(O) = N p (1-p) n/(n-1) (I - J/n),
    hence sum (O - E)^2 / (N p (1 - p) n / (n - 1)) is asymptotically chi-square(n - 1)."""
    n = len(ids)
    share = k / n
    scale = draws * share * (1 - share) * n / (n - 1)
    return sum((included[i] - draws * share) ** 2 for i in ids) / scale


@pytest.mark.parametrize("df", [2, 7, 9, 11, 14, 29, 119])
def test_critical_values_are_right(df):
    # Wilson-Hilferty errs on the safe side: a fair draw fails with probability <= alpha
    assert 0.6 * ALPHA < chi_square_tail(critical_value(df), df) <= ALPHA
    if df == 2:  # closed form: P(X >= x) = exp(-x/2)
        assert chi_square_tail(18.0, 2) == pytest.approx(math.exp(-9), rel=1e-9)
        assert chi_square_tail(-2 * math.log(ALPHA), 2) == pytest.approx(ALPHA, rel=1e-9)
    if df == 119:
        assert 185.1 < critical_value(df) < 185.3
        assert chi_square_tail(185.09, 119) == pytest.approx(ALPHA, rel=0.01)


# --- one stratum: every 3-subset of 10 equally likely -------------------------------------------

POOL_10 = [{"id": i, "stratum": "s"} for i in range(1, 11)]
PARAMS_3_OF_10 = {"algorithm": p.ALGORITHM, "kind": "target", "strata": {"s": {"ratio_bp": 3000}}}
SUBSETS = list(itertools.combinations(range(1, 11), 3))


def protocol_sampler(seed: bytes) -> list[int]:
    return p.draw_targets(POOL_10, PARAMS_3_OF_10, seed)["s"]


def biased_sampler(seed: bytes) -> list[int]:
    """The negative control: the protocol's rank keys, but each key is multiplied by
    (100 + id) / 100, so small ids rank slightly earlier: id 1 is drawn about 31.5 % of the
    time and id 10 about 28.4 % instead of 30 % (with the seeds below)."""
    keys = {
        c["id"]: int.from_bytes(p.rank_key(seed, "target", "s", c["id"]), "big") for c in POOL_10
    }
    return sorted(keys, key=lambda i: keys[i] * (100 + i))[:3]


def subset_counts(sampler, label: str) -> tuple[Counter, Counter]:
    subsets, included = Counter(), Counter()
    for seed in seeds(label, N_UNIFORM):
        chosen = sampler(seed)
        assert len(chosen) == len(set(chosen)) == 3
        subsets[tuple(sorted(chosen))] += 1
        included.update(chosen)
    return subsets, included


def test_a_uniform_draw_of_3_from_10_passes_the_chi_square_test():
    subsets, included = subset_counts(protocol_sampler, "3 of 10")
    assert set(subsets) == set(SUBSETS)
    statistic = chi_square(subsets, SUBSETS, N_UNIFORM / len(SUBSETS))
    assert statistic < critical_value(len(SUBSETS) - 1), statistic
    ids = range(1, 11)
    assert inclusion_statistic(included, ids, N_UNIFORM, 3) < critical_value(9)


def test_a_slightly_biased_sampler_fails_the_same_test():
    subsets, included = subset_counts(biased_sampler, "3 of 10")
    assert included[1] / included[10] < 1.15  # slight: under 15 % between the extremes
    statistic = chi_square(subsets, SUBSETS, N_UNIFORM / len(SUBSETS))
    assert statistic > critical_value(len(SUBSETS) - 1), statistic


# --- strata -------------------------------------------------------------------------------------

STRATA_SIZES = {"高风险": 8, "中风险": 12, "低风险": 30}
STRATA_PARAMS = {
    "algorithm": p.ALGORITHM,
    "kind": "target",
    "strata": {
        "高风险": {"ratio_bp": 5000},
        "中风险": {"ratio_bp": 2500},
        "低风险": {"ratio_bp": 1000},
    },
}
EXACT_COUNTS = {"高风险": 4, "中风险": 3, "低风险": 3}  # 8 x 50 %, 12 x 25 %, 30 x 10 %


def test_stratified_draws_hit_their_exact_counts_and_are_uniform_within_each_stratum():
    pool, members, next_id = [], {}, 1
    for name, size in STRATA_SIZES.items():
        members[name] = list(range(next_id, next_id + size))
        pool.extend({"id": i, "stratum": name} for i in members[name])
        next_id += size
    included = Counter()
    for seed in seeds("strata", N_STRATIFIED):
        selection = p.draw_targets(pool, STRATA_PARAMS, seed)
        assert {name: len(ids) for name, ids in selection.items()} == EXACT_COUNTS
        for name, ids in selection.items():
            assert len(set(ids)) == len(ids) and set(ids) <= set(members[name])
            included.update(ids)
    for name, ids in members.items():
        statistic = inclusion_statistic(included, ids, N_STRATIFIED, EXACT_COUNTS[name])
        assert statistic < critical_value(len(ids) - 1), (name, statistic)


def test_tied_remainders_share_the_extra_seats_evenly():
    # quotas 3/2, 5/2, 7/2: total round(15/2) = 8, floors 1 + 2 + 3 = 6, two seats for three
    # strata tied at 1/2; the stratum left out should be each of the three a third of the time.
    sizes = {"A": 3, "B": 5, "C": 7}
    strata = {name: {"ratio_bp": 5000} for name in sizes}
    floors = {name: int(Fraction(size, 2)) for name, size in sizes.items()}
    left_out = Counter()
    for seed in seeds("ties", N_STRATIFIED):
        counts = p.allocate(sizes, strata, seed)
        assert sum(counts.values()) == 8
        extra = {name for name in sizes if counts[name] == floors[name] + 1}
        assert len(extra) == 2 and all(counts[n] == floors[n] for n in set(sizes) - extra)
        (missing,) = set(sizes) - extra
        left_out[missing] += 1
    statistic = chi_square(left_out, sizes, N_STRATIFIED / 3)
    assert statistic < -2 * math.log(ALPHA)  # exact for 2 degrees of freedom: 18.42


# --- inspectors ---------------------------------------------------------------------------------


def test_inspector_pairs_are_uniform():
    inspectors = [{"id": i, "department": 1} for i in range(1, 7)]
    pairs = list(itertools.combinations(range(1, 7), 2))
    observed = Counter()
    draws = 30_000
    for seed in seeds("pairs", draws):
        group = p.draw_inspectors([77], inspectors, [], {"group_size": 2}, seed)[77]
        observed[tuple(sorted(group))] += 1
    statistic = chi_square(observed, pairs, draws / len(pairs))
    assert statistic < critical_value(len(pairs) - 1), statistic
