"""The draw protocol dsr-sha256-v1 (app/draws/protocol.py) against its known-answer vectors,
the standalone verifier, tampered records and the rules of docs/draw-protocol.md.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.draws import protocol as p
from tests.draws import make_vectors

ROOT = Path(__file__).resolve().parents[2]
VECTOR_DIR = ROOT / "tests" / "vectors"
VECTORS = sorted(
    path for path in VECTOR_DIR.glob("*.json") if not path.name.endswith(".record.json")
)
RECORDS = sorted(VECTOR_DIR.glob("*.record.json"))
NEGATIVE = sorted((VECTOR_DIR / "negative").glob("*.json"))

RECORD_HASH_PROBLEM = "record_hash: the record's content does not hash to the recorded value"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def vector(stem: str) -> dict:
    return load(VECTOR_DIR / f"{stem}.json")


def seed_of(n: int) -> bytes:
    return hmac.new(b"dsr test seeds", n.to_bytes(8, "big"), hashlib.sha256).digest()


def run_verifier(tmp_path: Path, record: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return verifier(path)


def verifier(path: Path) -> subprocess.CompletedProcess:
    """`python -S -E -m app.draws.verify`: no site-packages, no PYTHONPATH: standard library only."""
    return subprocess.run(
        [sys.executable, "-S", "-E", "-m", "app.draws.verify", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


# Without --ledger the verifier says VALID and that it checked the record's own consistency only.
VALID_RECORD_ONLY = (
    "VALID\n(checked the record's own consistency only: give --ledger ledger.json, from "
    "/public/draws/ledger.json, to check it against the public draw ledger)\n"
)


def problems_of(result: subprocess.CompletedProcess) -> list[str]:
    lines = result.stdout.splitlines()
    assert lines[0] == "INVALID", result.stdout
    assert all(line.startswith("- ") for line in lines[1:])
    return [line[2:] for line in lines[1:]]


# --- the vector files ---------------------------------------------------------------------------


def test_vector_files_are_exactly_what_make_vectors_writes():
    rendered = make_vectors.render()
    on_disk = {path for path in VECTOR_DIR.iterdir() if path.suffix == ".json"}
    on_disk |= set(NEGATIVE)
    assert set(rendered) == on_disk
    for path, text in rendered.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run make_vectors"
    for path in VECTORS:
        assert load(path)["record"] == load(path.with_suffix(".record.json"))


def test_the_vectors_cover_what_they_claim():
    assert len(VECTORS) >= 6
    ties = vector("02-remainder-ties")["expected"]["allocation"]
    fractions = Counter(ties["fractional_parts"].values())
    tied = [f for f, n in fractions.items() if n > 1 and f != "0"]
    assert tied, "no tie in the fractional remainders"
    # the tie is decided by the seats left: some but not all of the tied strata get one
    granted = ties["remainder_order"][: ties["remaining_seats"]]
    assert 0 < sum(ties["fractional_parts"][s] in tied for s in granted) < fractions[tied[0]]

    clamps = vector("03-min-max-clamps")
    alloc, strata = clamps["expected"]["allocation"], clamps["inputs"]["params"]["strata"]
    before, counts = alloc["before_clamps"], alloc["counts"]
    assert any(counts[s] > before[s] for s in counts), "no min clamp"
    assert any(
        strata[s]["max"] is not None and counts[s] == strata[s]["max"] < before[s] for s in strata
    )
    assert any(counts[s] == alloc["pool_sizes"][s] < (strata[s]["min"] or 0) for s in strata)
    assert any(s not in strata for s in alloc["pool_sizes"])

    witness = vector("04-witness-entropy")
    raw, normalised = (
        witness["inputs"]["witness_entropy"],
        witness["expected"]["witness_entropy_normalised"],
    )
    assert raw != normalised and "\u3000" in raw and "  " in raw and "监督人" in normalised
    assert (
        p.derive_seed(
            bytes.fromhex(witness["inputs"]["server_secret"]),
            witness["inputs"]["draw_id"],
            witness["expected"]["pool_hash"],
            witness["expected"]["params_hash"],
            normalised,
        ).hex()
        == witness["expected"]["seed"]
    )

    groups = vector("05-inspector-groups")["expected"]
    assert groups["binding"] == {
        "conflicts": True,
        "max_groups_per_inspector": True,
        "one_per_department": True,
    }
    subs = vector("06-substitutions")
    events, conflicts = subs["record"]["substitutions"], subs["inputs"]["params"]["conflicts"]
    assert len(events) == 2
    assert events[1]["substitute"] == events[0]["replaced"]  # a freed inspector is chosen again
    ranking_21 = [r["id"] for r in subs["expected"]["ranking"]["21"]]
    skipped = ranking_21[: ranking_21.index(events[0]["substitute"])]
    assert [41, 21] in conflicts and 41 in skipped  # a conflicted inspector is skipped


@pytest.mark.parametrize("path", VECTORS, ids=lambda path: path.stem)
def test_the_module_reproduces_the_vector(path):
    v = load(path)
    inputs, expected, record = v["inputs"], v["expected"], v["record"]
    secret = bytes.fromhex(inputs["server_secret"])
    params = inputs["params"]
    if inputs["kind"] == "target":
        pool = inputs["pool"]
    else:
        pool = p.pool_from_inspectors(inputs["inspectors"])

    assert (
        p.canonical_json(p.canonical_pool(pool)).decode("utf-8") == expected["canonical_pool_json"]
    )
    assert p.pool_hash(pool) == expected["pool_hash"] == record["pool_hash"]
    assert p.canonical_json(params).decode("utf-8") == expected["canonical_params_json"]
    assert p.params_hash(params) == expected["params_hash"] == record["params_hash"]
    assert p.commitment(secret) == expected["commitment"] == record["commitment"]
    assert (
        p.normalise_witness_entropy(inputs["witness_entropy"])
        == expected["witness_entropy_normalised"]
    )
    assert inputs["witness_entropy"].encode("utf-8").hex() == expected["witness_entropy_utf8_hex"]
    seed = p.derive_seed(
        secret,
        inputs["draw_id"],
        expected["pool_hash"],
        expected["params_hash"],
        inputs["witness_entropy"],
    )
    assert seed.hex() == expected["seed"] == record["seed"]
    message = bytes.fromhex(expected["seed_message_hex"])
    assert hmac.new(secret, message, hashlib.sha256).digest() == seed
    assert message.split(b"\x1f") == [
        inputs["draw_id"].encode(),
        expected["pool_hash"].encode(),
        expected["params_hash"].encode(),
        expected["witness_entropy_normalised"].encode("utf-8"),
    ]
    for group, ranked in expected["ranking"].items():
        ids = [r["id"] for r in ranked]
        assert p.rank(seed, inputs["kind"], group, reversed(ids)) == ids
        assert [p.rank_key(seed, inputs["kind"], group, i).hex() for i in ids] == [
            r["rank_key"] for r in ranked
        ]

    if inputs["kind"] == "target":
        alloc = expected["allocation"]
        sizes = Counter(c["stratum"] for c in pool)
        assert alloc["pool_sizes"] == dict(sizes)
        assert p.allocate(dict(sizes), params["strata"], seed) == alloc["counts"]
        assert {s: p.tie_key(seed, s).hex() for s in sizes} == alloc["tie_keys"]
        quotas = {
            s: Fraction(sizes[s] * params["strata"].get(s, {}).get("ratio_bp", 0), 10000)
            for s in sizes
        }
        assert {s: str(q) for s, q in quotas.items()} == alloc["quotas"]
        assert alloc["total"] == int(sum(quotas.values()) + Fraction(1, 2))
        selection = p.draw_targets(pool, params, seed)
        assert selection == expected["selection"] == record["selection"]
        assert {s: len(ids) for s, ids in selection.items()} == alloc["counts"]
    else:
        inspectors = inputs["inspectors"]
        groups = p.draw_inspectors(params["targets"], inspectors, params["conflicts"], params, seed)
        assert {str(t): g for t, g in groups.items()} == expected["groups"] == record["groups"]
        final, problems = p.replay_substitutions(record, seed)
        assert problems == []
        assert {str(t): g for t, g in final.items()} == expected["final_groups"]
        prev = expected["record_hash"]
        for given_, event in zip(
            inputs["substitutions"], record.get("substitutions", []), strict=True
        ):
            asked = {k: v for k, v in given_.items() if k != "supplementary_inspectors"}
            assert {k: event[k] for k in ("target", "replaced", "reason", "note", "at")} == asked
            if "supplementary_inspectors" in given_:  # 补充摇号 (§12a): its own pool and seed
                pool = p.canonical_pool(p.pool_from_inspectors(given_["supplementary_inspectors"]))
                assert event["pool"] == pool and event["pool_hash"] == p.pool_hash(pool)
                n = str(record["substitutions"].index(event) + 1)
                steps = expected["supplementary_draws"][n]
                seed_n = p.supplement_seed(seed, int(n), event["target"], p.pool_hash(pool), prev)
                assert seed_n.hex() == steps["seed"]
                ids = [r["id"] for r in steps["ranking"]]
                assert p.inspector_ranking(seed_n, event["target"], reversed(ids)) == ids
            assert event["prev_hash"] == prev
            assert p.event_hash(event) == event["event_hash"]
            prev = event["event_hash"]
        assert record.get("substitutions", []) == expected["substitutions"]

    assert p.record_hash(record) == expected["record_hash"] == record["record_hash"]
    assert record["server_secret"] == inputs["server_secret"]
    assert record["witness_entropy"] == expected["witness_entropy_normalised"]
    assert record["witnesses"] == inputs["witnesses"]
    assert record["algorithm"] == params["algorithm"] == p.ALGORITHM


@pytest.mark.parametrize("path", RECORDS, ids=lambda path: path.name)
def test_the_standalone_verifier_says_valid(path):
    result = verifier(path)
    assert (result.returncode, result.stdout, result.stderr) == (0, VALID_RECORD_ONLY, "")


def test_the_documented_example_values_come_from_the_vectors():
    doc = (ROOT / "docs" / "draw-protocol.md").read_text(encoding="utf-8")
    vectors_text = "".join(path.read_text(encoding="utf-8") for path in VECTORS)
    digests = set(re.findall(r"\b[0-9a-f]{64}\b", doc))
    assert len(digests) >= 8
    assert {d for d in digests if d not in vectors_text} == set()


# --- tampered records ---------------------------------------------------------------------------


def test_a_changed_selected_id_is_reported(tmp_path):
    record = vector("01-simple-target")["record"]
    chosen = record["selection"]["general"]
    other = next(c["id"] for c in record["pool"] if c["id"] not in chosen)
    tampered = copy.deepcopy(record)
    tampered["selection"]["general"][1] = other
    result = run_verifier(tmp_path, tampered)
    assert result.returncode == 1
    changed = [chosen[0], other, chosen[2]]
    assert f"selection general: expected {chosen}, the record says {changed}" in problems_of(result)


def test_one_changed_byte_of_the_server_secret_is_reported(tmp_path):
    record = copy.deepcopy(vector("01-simple-target")["record"])
    secret = bytearray.fromhex(record["server_secret"])
    secret[17] ^= 0x01
    record["server_secret"] = secret.hex()
    result = run_verifier(tmp_path, record)
    assert result.returncode == 1
    problems = problems_of(result)
    assert problems[0] == "commitment: SHA-256('dsr-commit' || server_secret) does not match"
    assert "seed: the recorded seed differs from the one derived" in problems


def test_a_reordered_pool_gives_the_same_result(tmp_path):
    record = copy.deepcopy(vector("02-remainder-ties")["record"])
    record["pool"] = list(reversed(record["pool"]))
    assert p.pool_hash(record["pool"]) == record["pool_hash"]
    result = run_verifier(tmp_path, record)
    assert (result.returncode, result.stdout) == (0, VALID_RECORD_ONLY)


def test_a_reordered_pool_rehashed_by_its_publisher_is_valid(tmp_path):
    record = copy.deepcopy(vector("05-inspector-groups")["record"])
    record["pool"] = sorted(record["pool"], key=lambda c: (c["stratum"], -c["id"]))
    record["record_hash"] = p.record_hash(record)
    result = run_verifier(tmp_path, record)
    assert (result.returncode, result.stdout) == (0, VALID_RECORD_ONLY)


def test_a_changed_stratum_of_one_candidate_is_reported(tmp_path):
    record = copy.deepcopy(vector("02-remainder-ties")["record"])
    record["pool"][0]["stratum"] = "中风险"
    result = run_verifier(tmp_path, record)
    assert result.returncode == 1
    assert "pool_hash: the pool does not hash to the recorded value" in problems_of(result)


def test_changed_parameters_are_reported(tmp_path):
    record = copy.deepcopy(vector("03-min-max-clamps")["record"])
    record["params"]["strata"]["y"]["max"] = 5
    result = run_verifier(tmp_path, record)
    assert result.returncode == 1
    problems = problems_of(result)
    assert "params_hash: the parameters do not hash to the recorded value" in problems
    assert RECORD_HASH_PROBLEM in problems


def test_changed_witness_entropy_is_reported(tmp_path):
    record = copy.deepcopy(vector("04-witness-entropy")["record"])
    record["witness_entropy"] = record["witness_entropy"].replace("5 8 2", "5 8 3")
    result = run_verifier(tmp_path, record)
    assert result.returncode == 1
    problems = problems_of(result)
    assert "seed: the recorded seed differs from the one derived" in problems
    assert RECORD_HASH_PROBLEM in problems


def test_witness_entropy_has_one_valid_form_in_a_record():
    record = copy.deepcopy(vector("04-witness-entropy")["record"])
    typed = vector("04-witness-entropy")["inputs"]["witness_entropy"]
    assert p.derive_seed(bytes(32), "d", "0" * 64, "0" * 64, typed) == p.derive_seed(
        bytes(32), "d", "0" * 64, "0" * 64, record["witness_entropy"]
    )
    # same seed, but the typed text (or null, or no member) is not a second valid record
    for variant in ({"witness_entropy": typed}, {"witness_entropy": None}):
        tampered = {**record, **variant}
        tampered["record_hash"] = p.record_hash(tampered)
        assert len(p.verify(tampered)) == 1
        assert "witness_entropy" in p.verify(tampered)[0]


def test_an_altered_substitution_is_reported(tmp_path):
    record = copy.deepcopy(vector("06-substitutions")["record"])
    record["substitutions"][1]["substitute"] = 41
    problems = problems_of(run_verifier(tmp_path, record))
    assert "substitution 2: event_hash does not match its content" in problems
    assert "substitution 2: substitute should be inspector 42, the record says 41" in problems


def test_substitutions_are_appended_without_changing_the_record_hash():
    record = vector("06-substitutions")["record"]
    before = {**record, "substitutions": []}
    assert p.record_hash(before) == p.record_hash(record) == record["record_hash"]
    assert p.verify(before) == []
    # ... but each event is bound by its own hash: the reason, note and time included
    for field, value in [("reason", "其他"), ("note", ""), ("at", "2026-03-19T10:06:00")]:
        tampered = copy.deepcopy(record)
        tampered["substitutions"][1][field] = value
        assert p.verify(tampered) == ["substitution 2: event_hash does not match its content"]


def test_an_altered_substitution_with_a_recomputed_hash_breaks_the_chain(tmp_path):
    record = copy.deepcopy(vector("06-substitutions")["record"])
    first = record["substitutions"][0]
    first["substitute"] = 41
    first["event_hash"] = p.event_hash(first)
    problems = problems_of(run_verifier(tmp_path, record))
    assert "substitution 1: substitute should be inspector 53, the record says 41" in problems
    assert "substitution 2: prev_hash does not link to the previous entry" in problems


def test_a_substitution_of_someone_outside_the_group_is_reported():
    record = copy.deepcopy(vector("06-substitutions")["record"])
    record["substitutions"][0]["replaced"] = 44
    seed = bytes.fromhex(record["seed"])
    problems = p.replay_substitutions(record, seed)[1]
    assert "substitution 1: inspector 44 is not in the group of target 21" in problems


def test_a_missing_secret_and_an_unknown_algorithm_are_reported():
    record = copy.deepcopy(vector("01-simple-target")["record"])
    assert p.verify({**record, "algorithm": "dsr-sha256-v2"}) == [
        "algorithm is 'dsr-sha256-v2', this verifier knows dsr-sha256-v1"
    ]
    del record["server_secret"]
    assert p.verify(record)[0].startswith("server_secret is not in the record")


# --- properties ---------------------------------------------------------------------------------

STRATA = ["a", "b", "中", "高风险", "z\u00e9"]


@st.composite
def pools_and_params(draw):
    ids = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=40, unique=True))
    pool = [{"id": i, "stratum": draw(st.sampled_from(STRATA))} for i in ids]
    names = draw(st.lists(st.sampled_from(STRATA), unique=True))
    strata = {
        name: {
            "ratio_bp": draw(st.integers(0, 10000)),
            "min": draw(st.none() | st.integers(0, 8)),
            "max": draw(st.none() | st.integers(0, 8)),
        }
        for name in names
    }
    return pool, {"algorithm": p.ALGORITHM, "kind": "target", "strata": strata}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools_and_params(), st.binary(min_size=32, max_size=32), st.randoms(use_true_random=False))
def test_shuffling_the_pool_never_changes_the_selection(pool_params, seed, rnd):
    pool, params = pool_params
    shuffled = copy.deepcopy(pool)
    rnd.shuffle(shuffled)
    assert p.pool_hash(shuffled) == p.pool_hash(pool)
    assert p.draw_targets(shuffled, params, seed) == p.draw_targets(pool, params, seed)


sizes_strategy = st.dictionaries(st.sampled_from(STRATA), st.integers(1, 500), min_size=1)


@settings(max_examples=500, deadline=None)
@given(sizes_strategy, st.data(), st.binary(min_size=32, max_size=32))
def test_allocation_respects_pool_sizes_minimums_and_maximums(sizes, data, seed):
    strata = {
        name: {
            "ratio_bp": data.draw(st.integers(0, 10000)),
            "min": data.draw(st.none() | st.integers(0, 600)),
            "max": data.draw(st.none() | st.integers(0, 600)),
        }
        for name in data.draw(st.lists(st.sampled_from(STRATA), unique=True))
    }
    counts = p.allocate(sizes, strata, seed)
    assert set(counts) == set(sizes)
    for name, count in counts.items():
        spec = strata.get(name, {"ratio_bp": 0, "min": None, "max": None})
        assert 0 <= count <= sizes[name]
        if spec["max"] is not None:
            assert count <= spec["max"]
        if spec["min"] is not None and (spec["max"] is None or spec["max"] >= spec["min"]):
            assert count >= min(spec["min"], sizes[name])
        if name not in strata:
            assert count == 0


@settings(max_examples=500, deadline=None)
@given(sizes_strategy, st.data(), st.binary(min_size=32, max_size=32))
def test_allocation_without_bounds_is_the_largest_remainder_of_the_rounded_total(sizes, data, seed):
    strata = {name: {"ratio_bp": data.draw(st.integers(0, 10000))} for name in sizes}
    counts = p.allocate(sizes, strata, seed)
    quotas = {name: Fraction(sizes[name] * strata[name]["ratio_bp"], 10000) for name in sizes}
    total = sum(quotas.values())
    assert sum(counts.values()) == int(total + Fraction(1, 2))  # rounded half up
    got_seat = {name for name in sizes if counts[name] == int(quotas[name]) + 1}
    for name in sizes:
        assert counts[name] - int(quotas[name]) in (0, 1)
    for winner in got_seat:
        assert quotas[winner] != int(quotas[winner])
        for other in set(sizes) - got_seat:
            assert quotas[winner] - int(quotas[winner]) >= quotas[other] - int(quotas[other])


def test_tied_remainders_are_broken_by_the_tie_key_then_the_name():
    seed = seed_of(7)
    names = ["b", "a", "中"]
    counts = p.allocate({name: 1 for name in names}, {n: {"ratio_bp": 5000} for n in names}, seed)
    # quotas 1/2 each: total round(3/2) = 2 seats for three tied strata
    winners = sorted(names, key=lambda n: p.tie_key(seed, n))[:2]
    assert counts == {n: int(n in winners) for n in names}


# --- inspectors ---------------------------------------------------------------------------------

INSPECTORS = [{"id": i, "department": 1 + i % 2} for i in range(1, 9)]


def test_a_conflicted_inspector_is_never_drawn_for_that_target():
    params = {"group_size": 3, "max_groups_per_inspector": None, "one_per_department": [1, 2]}
    conflicts = [[3, 100]]
    drawn_elsewhere = would_have_been_drawn = 0
    for n in range(2000):
        seed = seed_of(n)
        groups = p.draw_inspectors([200, 100], INSPECTORS, conflicts, params, seed)
        assert 3 not in groups[100]
        drawn_elsewhere += 3 in groups[200]
        would_have_been_drawn += 3 in p.draw_inspectors([100], INSPECTORS, [], params, seed)[100]
        load = Counter(i for g in groups.values() for i in g)
        group = groups[100]
        replaced = group[n % 3]
        assert p.substitute(seed, 100, group, INSPECTORS, conflicts, {replaced}, params, load) != 3
    # the test is not vacuous: without the conflict inspector 3 is drawn about 3/8 of the time
    assert drawn_elsewhere > 500 and would_have_been_drawn > 500


@pytest.mark.parametrize("size", [1, 0, -2, True, "2", 2.0, None])
def test_a_group_size_below_two_is_refused(size):
    with pytest.raises(p.ProtocolError, match="group_size must be an integer of at least 2"):
        p.draw_inspectors([1], INSPECTORS, [], {"group_size": size}, seed_of(1))


def test_a_too_small_pool_is_refused_naming_the_target_and_the_counts():
    params = {"group_size": 3, "max_groups_per_inspector": 1}
    four = INSPECTORS[:4]
    with pytest.raises(p.ProtocolError) as exc:
        p.draw_inspectors([20, 10], four, [], params, seed_of(1))
    assert str(exc.value) == "target 20: only 1 eligible inspectors for a group of 3"
    with pytest.raises(
        p.ProtocolError, match="^target 10: only 2 eligible inspectors for a group of 3$"
    ):
        p.draw_inspectors([10], four, [[1, 10], [2, 10]], params, seed_of(1))
    with pytest.raises(p.ProtocolError, match="^target 10: no eligible inspector of department 3$"):
        p.draw_inspectors([10], four, [], {"group_size": 2, "one_per_department": [3]}, seed_of(1))


def test_a_substitute_draw_with_nobody_left_is_refused():
    seed = seed_of(3)
    three = INSPECTORS[:3]
    groups = p.draw_inspectors([10], three, [], {"group_size": 3}, seed)
    with pytest.raises(
        p.ProtocolError, match="^target 10: no eligible inspector left for a substitute$"
    ):
        p.substitute(seed, 10, groups[10], three, [], {groups[10][0]}, {"group_size": 3}, Counter())


def test_one_per_department_takes_the_best_of_each_department_first():
    params = {"group_size": 3, "one_per_department": [2, 1]}
    for n in range(200):
        seed = seed_of(n)
        group = p.draw_inspectors([5], INSPECTORS, [], params, seed)[5]
        ranking = p.inspector_ranking(seed, 5, [i["id"] for i in INSPECTORS])
        best = {d: next(i for i in ranking if 1 + i % 2 == d) for d in (1, 2)}
        assert group[:2] == [best[1], best[2]]
        assert group[2] == next(i for i in ranking if i not in group[:2])


# --- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [1.0, 0.5, float("nan"), float("inf"), [1, 2.5], {"a": {"b": [0.0]}}, ({"x": 1e3},)],
)
def test_canonical_json_refuses_floats(value):
    with pytest.raises(p.ProtocolError, match="floating-point numbers are not allowed"):
        p.canonical_json(value)


def test_a_float_in_the_parameters_is_refused():
    params = {"algorithm": p.ALGORITHM, "kind": "target", "strata": {"a": {"ratio_bp": 2500.0}}}
    with pytest.raises(p.ProtocolError):
        p.params_hash(params)
    record = copy.deepcopy(vector("01-simple-target")["record"])
    record["params"]["strata"]["general"]["ratio_bp"] = 2500.0
    problems = p.verify(record)
    assert problems and "floating-point numbers are not allowed" in problems[-1]


def test_canonical_json_bytes():
    value = {"b": [1, -2, True, None], "a": 'é中"\\\n\x01\u2028/', "é": {}, "B": 10**20}
    assert p.canonical_json(value) == (
        '{"B":100000000000000000000,"a":"é中\\"\\\\\\n\\u0001\u2028/","b":[1,-2,true,null],"é":{}}'
    ).encode("utf-8")
    # keys sort by code point, not by UTF-16 unit: U+FFFF before U+1F600
    assert (
        p.canonical_json({"\U0001f600": 1, "\uffff": 2}) == '{"\uffff":2,"\U0001f600":1}'.encode()
    )


def test_canonical_json_refuses_non_text_keys():
    # Python would sort the int keys 9 < 10 and write them as text, while the same object read
    # back from JSON sorts "10" < "9": two encodings, two hashes. So they are refused.
    with pytest.raises(p.ProtocolError):
        p.canonical_json({10: "x", 9: "y"})


def test_witness_entropy_normalisation():
    n = p.normalise_witness_entropy
    assert n(None) == n("") == n(" \t\r\n\u3000\u00a0") == ""
    assert n("  张三\u3000\u3000李四\t 5 8\r\n2  ") == "张三 李四 5 8 2"
    assert n("Lu\u0308") == "L\u00fc" == n("L\u00fc")
    assert n("a\u200bb") == "a\u200bb"  # zero-width space is not white space: kept
    for control in ["\x00", "\x07", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x85", "\x9f"]:
        with pytest.raises(p.ProtocolError, match="control characters"):
            n(f"12{control}34")


def test_the_seed_message_and_other_inputs_are_checked():
    with pytest.raises(p.ProtocolError, match="separator"):
        p.derive_seed(bytes(32), "D\x1f1", "0" * 64, "0" * 64)
    with pytest.raises(p.ProtocolError, match="32 bytes"):
        p.commitment(bytes(31))
    for bad in [
        {"id": 0, "stratum": "a"},
        {"id": "1", "stratum": "a"},
        {"id": True, "stratum": "a"},
    ]:
        with pytest.raises(p.ProtocolError, match="not a positive integer"):
            p.canonical_pool([bad])
    for stratum in ["", "a\x1fb", 3]:
        with pytest.raises(p.ProtocolError, match="invalid stratum"):
            p.canonical_pool([{"id": 1, "stratum": stratum}])
    with pytest.raises(p.ProtocolError, match="appears twice"):
        p.canonical_pool([{"id": 1, "stratum": "a"}, {"id": 1, "stratum": "b"}])
    with pytest.raises(p.ProtocolError, match="ratio_bp"):
        p.allocate({"a": 1}, {"a": {"ratio_bp": 10001}}, bytes(32))


def test_negative_bounds_are_refused():
    # a count of -1 would make draw_targets take rank[:-1]: all but the last candidate
    with pytest.raises(p.ProtocolError):
        p.allocate({"a": 5}, {"a": {"ratio_bp": 5000, "max": -1}}, bytes(32))


# --- a second implementation, written from docs/draw-protocol.md only ----------------------------
# It uses neither app.draws.protocol nor json.dumps: if it reproduces every vector, the document
# says enough to reimplement the protocol.

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_WHITE = set("\t\n\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def spec_json(value) -> bytes:
    if value is None or isinstance(value, bool):
        return {None: b"null", True: b"true", False: b"false"}[value]
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, str):
        chars = (_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in value)
        return ('"' + "".join(chars) + '"').encode("utf-8")
    if isinstance(value, list):
        return b"[" + b",".join(spec_json(v) for v in value) + b"]"
    members = sorted(value.items(), key=lambda kv: kv[0].encode("utf-8"))  # = code point order
    return b"{" + b",".join(spec_json(k) + b":" + spec_json(v) for k, v in members) + b"}"


def spec_sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def spec_witness(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    for c in text:
        if (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) and c not in "\t\n\r":
            raise ValueError("control character")
    words, word = [], ""
    for c in text + " ":
        if c in _WHITE:
            if word:
                words.append(word)
            word = ""
        else:
            word += c
    return " ".join(words)


def spec_rank(seed: bytes, kind: str, group: str, ids) -> list[int]:
    return sorted(ids, key=lambda i: (spec_sha(seed + f"{kind}\x1f{group}\x1f{i}".encode()), i))


def spec_allocate(sizes: dict, strata: dict, seed: bytes) -> dict:
    quota = {s: Fraction(n * strata.get(s, {}).get("ratio_bp", 0), 10000) for s, n in sizes.items()}
    total = math.floor(sum(quota.values()) + Fraction(1, 2))
    count = {s: math.floor(q) for s, q in quota.items()}
    seats = total - sum(count.values())
    order = sorted(
        sizes,
        key=lambda s: (-(quota[s] - count[s]), spec_sha(seed + b"tie\x1f" + s.encode()), s),
    )
    for s in order[:seats]:
        count[s] += 1
    for s, n in sizes.items():
        spec = strata.get(s, {})
        c = max(count[s], spec.get("min") or 0)
        if spec.get("max") is not None:
            c = min(c, spec["max"])
        count[s] = min(c, n)
    return count


def spec_groups(params: dict, department: dict, seed: bytes) -> dict:
    conflicts = {tuple(pair) for pair in params["conflicts"]}
    cap, load, groups = params["max_groups_per_inspector"], Counter(), {}
    for t in sorted(params["targets"]):
        ranking = [
            i
            for i in spec_rank(seed, "inspector", str(t), department)
            if (i, t) not in conflicts and (cap is None or load[i] < cap)
        ]
        group = []
        for d in sorted(params["one_per_department"]):
            group.append(next(i for i in ranking if department[i] == d and i not in group))
        group += [i for i in ranking if i not in group][: params["group_size"] - len(group)]
        assert len(group) == params["group_size"]
        load.update(group)
        groups[str(t)] = group
    return groups


def spec_substitutes(params, department, seed, groups, requests, prev=None):
    conflicts = {tuple(pair) for pair in params["conflicts"]}
    cap = params["max_groups_per_inspector"]
    groups = {t: list(g) for t, g in groups.items()}
    load = Counter(i for g in groups.values() for i in g)
    unavailable, chosen = {}, []
    pool_ids = list(department)
    department = dict(department)
    for n, request in enumerate(requests, start=1):
        t, x = request["target"], request["replaced"]
        group = groups[str(t)]
        unavailable.setdefault(t, set()).add(x)
        ranked, seed_n = pool_ids, seed
        if "supplementary_inspectors" in request:
            # §12a: today's roster, canonical, hashed; the seed HMAC'd from the draw's seed.
            roster = sorted(request["supplementary_inspectors"], key=lambda i: i["id"])
            pool = [{"id": i["id"], "stratum": str(i["department"])} for i in roster]
            digest = spec_sha(spec_json(pool)).hex()
            message = "\x1f".join(["supplement", str(n), str(t), digest, prev[n - 1]])
            seed_n = hmac.new(seed, message.encode("utf-8"), hashlib.sha256).digest()
            department.update({i["id"]: i["department"] for i in roster})
            ranked = [i["id"] for i in roster]
        # §12 step 3: the group's only member of a listed department is replaced by one of it
        alone = department[x] in params["one_per_department"] and not any(
            m != x and department[m] == department[x] for m in group
        )
        pick = next(
            i
            for i in spec_rank(seed_n, "inspector", str(t), ranked)
            if i not in group
            and i not in unavailable[t]
            and (i, t) not in conflicts
            and (cap is None or load[i] < cap)
            and (not alone or department[i] == department[x])
        )
        group[group.index(x)] = pick
        load[x] -= 1
        load[pick] += 1
        chosen.append(pick)
    return groups, chosen


@pytest.mark.parametrize("path", VECTORS, ids=lambda path: path.stem)
def test_an_implementation_written_from_the_document_reproduces_the_vector(path):
    v = load(path)
    inputs, expected, record = v["inputs"], v["expected"], v["record"]
    if inputs["kind"] == "target":
        pool = [{"id": c["id"], "stratum": c["stratum"]} for c in inputs["pool"]]
    else:
        pool = [{"id": i["id"], "stratum": str(i["department"])} for i in inputs["inspectors"]]
    pool.sort(key=lambda c: c["id"])
    pool_hash = spec_sha(spec_json(pool)).hex()
    params_hash = spec_sha(spec_json(inputs["params"])).hex()
    secret = bytes.fromhex(inputs["server_secret"])
    assert spec_sha(b"dsr-commit" + secret).hex() == expected["commitment"]
    assert (pool_hash, params_hash) == (expected["pool_hash"], expected["params_hash"])
    w = spec_witness(inputs["witness_entropy"])
    message = "\x1f".join([inputs["draw_id"], pool_hash, params_hash, w]).encode("utf-8")
    seed = hmac.new(secret, message, hashlib.sha256).digest()
    assert seed.hex() == expected["seed"]
    if inputs["kind"] == "target":
        members: dict[str, list[int]] = {}
        for c in pool:
            members.setdefault(c["stratum"], []).append(c["id"])
        sizes = {s: len(ids) for s, ids in members.items()}
        counts = spec_allocate(sizes, inputs["params"]["strata"], seed)
        assert counts == expected["allocation"]["counts"]
        selection = {
            s: spec_rank(seed, "target", s, ids)[: counts[s]] for s, ids in members.items()
        }
        assert selection == expected["selection"]
    else:
        department = {c["id"]: int(c["stratum"]) for c in pool}
        groups = spec_groups(inputs["params"], department, seed)
        assert groups == expected["groups"]
        # prev_hash of each event: the record_hash, then the events' hashes (a supplementary
        # draw's seed uses it), checked below by rebuilding every event.
        chain = [expected["record_hash"]] + [e["event_hash"] for e in record["substitutions"]]
        final, chosen = spec_substitutes(
            inputs["params"], department, seed, groups, inputs["substitutions"], chain
        )
        assert final == expected["final_groups"]
        prev = expected["record_hash"]
        for request, pick, event in zip(
            inputs["substitutions"], chosen, record["substitutions"], strict=True
        ):
            rebuilt = {**request, "substitute": pick, "prev_hash": prev}
            if "supplementary_inspectors" in request:
                roster = sorted(rebuilt.pop("supplementary_inspectors"), key=lambda i: i["id"])
                rebuilt["pool"] = [{"id": i["id"], "stratum": str(i["department"])} for i in roster]
                rebuilt["pool_hash"] = spec_sha(spec_json(rebuilt["pool"])).hex()
            prev = spec_sha(spec_json(rebuilt)).hex()
            assert prev == event["event_hash"]
    unhashed = {"record_hash", "server_secret", "seed", "substitutions"}
    unhashed |= {"ledger", "committed_at", "completed_at"}  # §13: checked against the ledger
    hashed = {k: value for k, value in record.items() if k not in unhashed}
    assert spec_sha(spec_json(hashed)).hex() == expected["record_hash"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_json_is_what_the_document_describes(value):
    assert spec_json(value) == p.canonical_json(value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(sorted(_WHITE) + list("ab中\u0308\u200bx\x00\x85\x1f"))))
def test_witness_normalisation_is_what_the_document_describes(text):
    try:
        expected = spec_witness(text)
    except ValueError:
        with pytest.raises(p.ProtocolError):
            p.normalise_witness_entropy(text)
    else:
        assert p.normalise_witness_entropy(text) == expected


# --- PostgreSQL computes the same rank keys ------------------------------------------------------


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@pytest.mark.skipif(_postgres_url() is None, reason="TEST_DATABASE_URL is not a PostgreSQL URL")
def test_postgresql_sha256_ranks_like_python():
    psycopg = pytest.importorskip("psycopg")
    sql = (
        "SELECT id, encode(sha256(%(seed)s || convert_to(%(kind)s || chr(31) || grp"
        " || chr(31) || id::text, 'UTF8')), 'hex') FROM unnest(%(ids)s::bigint[]) AS t(id),"
        " (SELECT %(grp)s::text AS grp) AS g ORDER BY sha256(%(seed)s || convert_to(%(kind)s"
        " || chr(31) || grp || chr(31) || id::text, 'UTF8')), id"
    )
    with psycopg.connect(_postgres_url()) as conn:
        for stem in ["02-remainder-ties", "04-witness-entropy", "05-inspector-groups"]:
            v = vector(stem)
            for group, ranked in v["expected"]["ranking"].items():
                rows = conn.execute(
                    sql,
                    {
                        "seed": bytes.fromhex(v["expected"]["seed"]),
                        "kind": v["inputs"]["kind"],
                        "grp": group,
                        "ids": sorted(r["id"] for r in ranked),
                    },
                ).fetchall()
                assert [{"id": i, "rank_key": k} for i, k in rows] == ranked


# --- negative vectors: records that must be INVALID -----------------------------------------------


def test_there_is_a_negative_vector_for_every_guess_of_the_review():
    names = {path.stem for path in NEGATIVE}
    for fragment in [
        "department-leading-zero",
        "department-plus-sign",
        "department-space",
        "department-arabic-indic-digit",
        "department-fullwidth-digit",
        "pool-entry-extra-member",
        "cap-true",
        "cap-negative",
        "ratio-missing",
        "absent-stratum-ratio-out-of-range",
        "absent-stratum-negative-min",
        "substitutions-null",
        "kind-differs-from-params",
        "task-differs-from-params",
        "wrong-substitute-rechained",
        "substitution-at-malformed",
        "substitution-reason-unknown",
        "secret-upper-case",
        "witness-entropy-null",
        "witness-entropy-absent",
        "substitute-breaks-one-per-department",
    ]:
        assert any(name.endswith(fragment) for name in names), fragment


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda path: path.stem)
def test_every_negative_vector_fails_with_its_message(path, tmp_path):
    v = load(path)
    record, expected = v["record"], v["expected_problems"]
    assert expected and p.verify(record) == expected
    # every hash a forger can recompute is right: only the protocol's rule catches it
    assert p.params_hash(record["params"]) == record["params_hash"]
    result = run_verifier(tmp_path, record)
    assert result.returncode == 1
    assert problems_of(result) == expected


def test_the_standalone_verifier_reads_a_negative_vector_file_as_a_record(tmp_path):
    # The negative files wrap the record; the verifier takes the record alone.
    v = load(NEGATIVE[0])
    assert problems_of(run_verifier(tmp_path, v["record"])) == v["expected_problems"]


@pytest.mark.parametrize("stratum", ["03", "+3", " 3", "3 ", "\u0663", "\uff13", "", "-3", "0"])
def test_non_canonical_department_strata_are_refused(stratum):
    with pytest.raises(p.ProtocolError, match="not canonical decimal text"):
        p.inspectors_from_pool([{"id": 7, "stratum": stratum}])
    assert p.inspectors_from_pool([{"id": 7, "stratum": "3"}]) == [{"id": 7, "department": 3}]
    for department in ["3", True, 0, -3]:
        with pytest.raises(p.ProtocolError, match="not a positive integer"):
            p.pool_from_inspectors([{"id": 7, "department": department}])


def test_the_new_parameter_members_are_type_checked():
    record = vector("08-attempt-and-ledger-members")["record"]
    assert p.verify(record) == []
    for member, value, message in [
        ("attempt", 0, "params.attempt must be an integer of at least 1"),
        ("attempt", True, "params.attempt must be an integer of at least 1"),
        ("previous_draw", 5, "params.previous_draw must be a draw id (text) or null"),
        ("entropy_source", None, "params.entropy_source must be text"),
    ]:
        tampered = copy.deepcopy(record)
        tampered["params"][member] = value
        assert p.verify(tampered) == [f"the record is malformed: {message}"]


def test_the_ledger_members_are_outside_the_record_hash():
    record = vector("08-attempt-and-ledger-members")["record"]
    assert {"ledger", "committed_at", "completed_at"} <= set(record)
    bare = {k: v for k, v in record.items() if k not in ("ledger", "committed_at", "completed_at")}
    assert p.record_hash(bare) == record["record_hash"] == p.record_hash(record)


def test_a_substitute_keeps_one_inspector_of_every_listed_department():
    v = vector("09-substitutes-one-per-department")
    record, seed = v["record"], bytes.fromhex(v["record"]["seed"])
    department = {c["id"]: int(c["stratum"]) for c in record["pool"]}
    groups, problems = p.replay_substitutions(record, seed)
    assert problems == []
    for group in groups.values():
        assert {department[i] for i in group} >= {1, 2}
    # the rule decided the first substitute: without it a department-2 inspector would come
    assert v["expected"]["substitutes_bound_by_one_per_department"] == [True, False]
    free = {**record["params"], "one_per_department": []}
    first = record["substitutions"][0]
    group = [int(i) for i in record["groups"][str(first["target"])]]
    inspectors = p.inspectors_from_pool(record["pool"])
    load = Counter(i for g in record["groups"].values() for i in g)
    unrestricted = p.substitute(seed, 31, group, inspectors, [], {62}, free, load, replaced=62)
    assert department[unrestricted] == 2 and department[first["substitute"]] == 1


def test_no_substitute_of_the_needed_department_is_refused():
    inspectors = [
        {"id": 1, "department": 1},
        {"id": 2, "department": 2},
        {"id": 3, "department": 2},
    ]
    params = {"group_size": 2, "one_per_department": [1, 2], "max_groups_per_inspector": None}
    seed = seed_of(5)
    group = p.draw_inspectors([9], inspectors, [], params, seed)[9]
    assert 1 in group
    with pytest.raises(
        p.ProtocolError,
        match="^target 9: no eligible inspector of department 1 left for a substitute$",
    ):
        p.substitute(seed, 9, group, inspectors, [], {1}, params, Counter(group), replaced=1)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["01-simple-target", "05-inspector-groups", "06-substitutions"]), st.data())
def test_any_member_replaced_by_any_json_value_gives_a_verdict_not_a_crash(stem, data):
    record = copy.deepcopy(vector(stem)["record"])
    paths = []

    def walk(value, path):
        paths.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for n, item in enumerate(value[:3]):
                walk(item, (*path, n))

    walk(record, ())
    path = data.draw(st.sampled_from(paths[1:]))
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    problems = p.verify(record)  # never raises
    assert isinstance(problems, list) and all(isinstance(x, str) for x in problems)
