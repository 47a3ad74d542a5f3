"""(Re)generate the known-answer vectors in tests/vectors/ from fixed inputs.

    python -m tests.draws.make_vectors           # (re)write tests/vectors/*.json
    python -m tests.draws.make_vectors --check   # exit 1 if a file differs from what it would write

Run from the repository root. The output is deterministic: fixed secrets, fixed inputs, JSON
written with sorted keys, UTF-8 with non-ASCII kept as is, indent 2 and one final newline.

Each vector NN-name.json holds the inputs, every intermediate and final value under "expected"
and the complete published record under "record"; NN-name.record.json is that record alone, the
file `python -m app.draws.verify` takes. The allocation steps are recomputed here one by one, as
docs/draw-protocol.md describes them, and checked against protocol.allocate; everything else
comes from app.draws.protocol. tests/vectors/README.md describes the format.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

from app.draws import protocol as p

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors"


def fixed_secret(n: int) -> bytes:
    """The server secret of vector n+1: the 32 bytes 32n, 32n+1, ..., 32n+31 (n=0:
    bytes(range(32))); from n = 8 on the same bytes descending (n=8: 31, 30, ..., 0)."""
    if n >= 8:
        return bytes(reversed(fixed_secret(n - 8)))
    return bytes(range(32 * n, 32 * n + 32))


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# --- intermediate values ------------------------------------------------------------------------


def seed_steps(secret: bytes, draw_id: str, pool: list[dict], params: dict, witness: str) -> dict:
    canonical_pool_json = p.canonical_json(p.canonical_pool(pool))
    canonical_params_json = p.canonical_json(params)
    pool_digest = hashlib.sha256(canonical_pool_json).hexdigest()
    params_digest = hashlib.sha256(canonical_params_json).hexdigest()
    assert pool_digest == p.pool_hash(pool) and params_digest == p.params_hash(params)
    normalised = p.normalise_witness_entropy(witness)
    message = "\x1f".join([draw_id, pool_digest, params_digest, normalised]).encode("utf-8")
    seed = hmac.new(secret, message, hashlib.sha256).digest()
    assert seed == p.derive_seed(secret, draw_id, pool_digest, params_digest, witness)
    commitment = hashlib.sha256(b"dsr-commit" + secret).hexdigest()
    assert commitment == p.commitment(secret)
    return {
        "canonical_pool_json": canonical_pool_json.decode("utf-8"),
        "pool_hash": pool_digest,
        "canonical_params_json": canonical_params_json.decode("utf-8"),
        "params_hash": params_digest,
        "commitment": commitment,
        "witness_entropy_utf8_hex": witness.encode("utf-8").hex(),
        "witness_entropy_normalised": normalised,
        "seed_message_hex": message.hex(),
        "seed": seed.hex(),
    }


def allocation_steps(pool_sizes: dict[str, int], strata: dict, seed: bytes) -> dict:
    """Every step of the allocation, recomputed independently of protocol.allocate."""
    quotas = {}
    for name, size in pool_sizes.items():
        ratio = strata[name]["ratio_bp"] if name in strata else 0
        quotas[name] = Fraction(size * ratio, 10000)
    quota_sum = sum(quotas.values(), Fraction(0))
    total = (quota_sum + Fraction(1, 2)).numerator // (quota_sum + Fraction(1, 2)).denominator
    floors = {name: q.numerator // q.denominator for name, q in quotas.items()}
    fractional = {name: quotas[name] - floors[name] for name in quotas}
    tie_keys = {
        name: hashlib.sha256(seed + f"tie\x1f{name}".encode()).hexdigest() for name in quotas
    }
    order = sorted(quotas, key=lambda name: (-fractional[name], tie_keys[name], name))
    remaining = total - sum(floors.values())
    before = dict(floors)
    for name in order[:remaining]:
        before[name] += 1
    counts = {}
    for name, size in pool_sizes.items():
        spec = strata.get(name) or {}
        count = max(before[name], spec.get("min") or 0)
        if spec.get("max") is not None:
            count = min(count, spec["max"])
        counts[name] = min(count, size)
    assert counts == p.allocate(pool_sizes, strata, seed), (
        counts,
        p.allocate(pool_sizes, strata, seed),
    )
    return {
        "pool_sizes": dict(pool_sizes),
        "quotas": {name: str(q) for name, q in quotas.items()},
        "quota_sum": str(quota_sum),
        "total": total,
        "floors": floors,
        "fractional_parts": {name: str(f) for name, f in fractional.items()},
        "tie_keys": tie_keys,
        "remainder_order": order,
        "remaining_seats": remaining,
        "before_clamps": before,
        "counts": counts,
    }


def ranking(seed: bytes, kind: str, group: str, ids) -> list[dict]:
    return [
        {"id": cid, "rank_key": p.rank_key(seed, kind, group, cid).hex()}
        for cid in p.rank(seed, kind, group, ids)
    ]


# --- vectors ------------------------------------------------------------------------------------


def target_vector(
    *,
    file,
    title,
    description,
    draw_id,
    task,
    pool,
    params,
    secret,
    witness="",
    excluded=(),
    unhashed=None,
):
    steps = seed_steps(secret, draw_id, pool, params, witness)
    seed = bytes.fromhex(steps["seed"])
    canonical = p.canonical_pool(pool)
    by_stratum: dict[str, list[int]] = {}
    for candidate in canonical:
        by_stratum.setdefault(candidate["stratum"], []).append(candidate["id"])
    sizes = dict(sorted(Counter(c["stratum"] for c in canonical).items()))
    allocation = allocation_steps(sizes, params["strata"], seed)
    selection = p.draw_targets(pool, params, seed)
    rankings = {s: ranking(seed, "target", s, ids) for s, ids in sorted(by_stratum.items())}
    for stratum, chosen in selection.items():
        assert chosen == [r["id"] for r in rankings[stratum][: allocation["counts"][stratum]]]
    record = {
        "algorithm": p.ALGORITHM,
        "draw_id": draw_id,
        "kind": "target",
        "task": task,
        "pool": canonical,
        "pool_hash": steps["pool_hash"],
        "params": params,
        "params_hash": steps["params_hash"],
        "commitment": steps["commitment"],
        # The record holds the normalised text (§6: one canonical form, one record_hash).
        "witness_entropy": steps["witness_entropy_normalised"],
        "witnesses": WITNESSES if witness else "",
        "excluded": list(excluded),
        "selection": selection,
    }
    record["record_hash"] = p.record_hash(record)
    record["server_secret"] = secret.hex()
    record["seed"] = seed.hex()
    # Members outside record_hash (the ledger's): adding them leaves the hash as it was.
    record.update(unhashed or {})
    assert p.record_hash(record) == record["record_hash"]
    assert p.verify(record) == [], p.verify(record)
    expected = {
        **steps,
        "allocation": allocation,
        "ranking": rankings,
        "selection": selection,
        "record_hash": record["record_hash"],
    }
    inputs = {
        "draw_id": draw_id,
        "kind": "target",
        "task": task,
        "excluded": list(excluded),
        "pool": pool,
        "params": params,
        "server_secret": secret.hex(),
        "witness_entropy": witness,
        "witnesses": record["witnesses"],
    }
    return file, {
        "title": title,
        "description": description,
        "inputs": inputs,
        "expected": expected,
        "record": record,
    }


def inspector_vector(
    *,
    file,
    title,
    description,
    draw_id,
    task,
    inspectors,
    params,
    secret,
    witness="",
    excluded=(),
    substitutions=(),
):
    pool = p.pool_from_inspectors(inspectors)
    steps = seed_steps(secret, draw_id, pool, params, witness)
    seed = bytes.fromhex(steps["seed"])
    conflicts = params.get("conflicts") or []
    groups = p.draw_inspectors(params["targets"], inspectors, conflicts, params, seed)
    ids = [i["id"] for i in inspectors]

    def without(**changes) -> bool:
        variant = {**params, **changes}
        other = p.draw_inspectors(
            variant["targets"], inspectors, variant.get("conflicts") or [], variant, seed
        )
        return other != groups

    # Which rules change the groups in this vector (same seed, the rule switched off).
    binding = {
        "conflicts": without(conflicts=[]),
        "max_groups_per_inspector": without(max_groups_per_inspector=None),
        "one_per_department": without(one_per_department=[]),
    }
    rankings = {str(t): ranking(seed, "inspector", str(t), ids) for t in sorted(params["targets"])}
    record = {
        "algorithm": p.ALGORITHM,
        "draw_id": draw_id,
        "kind": "inspector",
        "task": task,
        "pool": p.canonical_pool(pool),
        "pool_hash": steps["pool_hash"],
        "params": params,
        "params_hash": steps["params_hash"],
        "commitment": steps["commitment"],
        "witness_entropy": steps["witness_entropy_normalised"],
        "witnesses": WITNESSES if witness else "",
        "excluded": list(excluded),
        "groups": {str(t): g for t, g in groups.items()},
        "substitutions": [],
    }
    # The record is hashed when the draw is made, before any substitute draw (递补抽取);
    # "substitutions" is not covered by the record_hash, the events chain from it.
    record["record_hash"] = p.record_hash(record)

    final = {t: list(g) for t, g in groups.items()}
    load = Counter(i for g in groups.values() for i in g)
    unavailable: dict[int, set[int]] = {}
    events = []
    department_rule = []  # per substitution: whether one_per_department changed the substitute
    supplements = {}  # per supplementary draw (§12a), by its number n in the chain
    known = {i["id"]: i["department"] for i in inspectors}
    pool_ids = [i["id"] for i in inspectors]
    prev = record["record_hash"]
    for n, (target, replaced, reason, note, at, *supplement) in enumerate(substitutions, 1):
        unavailable.setdefault(target, set()).add(replaced)
        everyone = [{"id": i, "department": d} for i, d in known.items()]
        args = (seed, target, final[target], everyone, conflicts, unavailable[target])
        if not supplement:
            chosen = p.substitute(*args, params, load, replaced=replaced, candidates=pool_ids)
            free = p.substitute(
                *args, {**params, "one_per_department": []}, load, replaced=replaced
            )
            department_rule.append(free != chosen)
            extra = {}
        else:
            # 补充摇号: the draw's own ranking is used up, today's roster is ranked afresh.
            try:
                p.substitute(*args, params, load, replaced=replaced, candidates=pool_ids)
            except p.ProtocolError:
                pass
            else:
                raise AssertionError(f"substitution {n}: the ranking is not used up")
            roster = supplement[0]
            frozen = p.canonical_pool(p.pool_from_inspectors(roster))
            digest = p.pool_hash(frozen)
            message = "\x1f".join(["supplement", str(n), str(target), digest, prev])
            sub_seed = hmac.new(seed, message.encode("utf-8"), hashlib.sha256).digest()
            assert sub_seed == p.supplement_seed(seed, n, target, digest, prev)
            known.update({i["id"]: i["department"] for i in roster})
            everyone = [{"id": i, "department": d} for i, d in known.items()]
            ids = [i["id"] for i in roster]
            chosen = p.substitute(
                sub_seed,
                target,
                final[target],
                everyone,
                conflicts,
                unavailable[target],
                params,
                load,
                replaced=replaced,
                candidates=ids,
            )
            department_rule.append(False)
            extra = {"pool": frozen, "pool_hash": digest}
            supplements[str(n)] = {
                "canonical_pool_json": p.canonical_json(frozen).decode("utf-8"),
                "pool_hash": digest,
                "seed_message_hex": message.encode("utf-8").hex(),
                "seed": sub_seed.hex(),
                "ranking": ranking(sub_seed, "inspector", str(target), ids),
            }
        event = {
            "target": target,
            "replaced": replaced,
            "substitute": chosen,
            "reason": reason,
            "note": note,
            "at": at,
            "prev_hash": prev,
            **extra,
        }
        event["event_hash"] = p.event_hash(event)
        events.append(event)
        prev = event["event_hash"]
        final[target][final[target].index(replaced)] = chosen
        load[replaced] -= 1
        load[chosen] += 1
    record["substitutions"] = events
    assert p.record_hash(record) == record["record_hash"]
    record["server_secret"] = secret.hex()
    record["seed"] = seed.hex()

    replayed, problems = p.replay_substitutions(record, seed)
    assert problems == [] and replayed == final, (problems, replayed, final)
    assert p.verify(record) == [], p.verify(record)

    expected = {
        **steps,
        "ranking": rankings,
        "binding": binding,
        "substitutes_bound_by_one_per_department": department_rule,
        "groups": record["groups"],
        "substitutions": events,
        **({"supplementary_draws": supplements} if supplements else {}),
        "final_groups": {str(t): g for t, g in final.items()},
        "record_hash": record["record_hash"],
    }
    inputs = {
        "draw_id": draw_id,
        "kind": "inspector",
        "task": task,
        "excluded": list(excluded),
        "inspectors": inspectors,
        "params": params,
        "server_secret": secret.hex(),
        "witness_entropy": witness,
        "witnesses": record["witnesses"],
        "substitutions": [
            {
                "target": t,
                "replaced": r,
                "reason": reason,
                "note": note,
                "at": at,
                **({"supplementary_inspectors": roster[0]} if roster else {}),
            }
            for t, r, reason, note, at, *roster in substitutions
        ],
    }
    return file, {
        "title": title,
        "description": description,
        "inputs": inputs,
        "expected": expected,
        "record": record,
    }


WITNESSES = "张三（县纪委监委）、李四（群众代表）"  # the 监督人, as the application records them


def _scrambled(ids: list[int]) -> list[int]:
    """A fixed, non-sorted listing order (every 5th id first), to show that order is irrelevant."""
    return sorted(ids, key=lambda i: (i % 5, -i))


def _task(n: int) -> str:
    return f"东水双随机〔2026〕{n}号"


def _target_params(n: int, strata: dict) -> dict:
    return {"algorithm": p.ALGORITHM, "kind": "target", "task": _task(n), "strata": strata}


def vectors() -> list[tuple[str, dict]]:
    out = []

    # 1 — one stratum, no witness entropy, secret bytes(range(32)).
    pool = [{"id": i, "stratum": "general"} for i in _scrambled(list(range(101, 113)))]
    out.append(
        target_vector(
            file="01-simple-target",
            title="Simple target draw (摇号): one stratum, 3 of 12",
            description=(
                "12 candidates listed out of id order, one stratum with ratio 2500 bp: quota "
                "12 x 2500 / 10000 = 3 exactly. No witness entropy (empty string). The worked "
                "example of docs/draw-protocol.md (§14) follows vector 02, not this one."
            ),
            draw_id="D-2026-0001",
            task=_task(1),
            pool=pool,
            params=_target_params(1, {"general": {"ratio_bp": 2500, "min": None, "max": None}}),
            secret=fixed_secret(0),
        )
    )

    # 2 — three strata whose fractional remainders tie.
    sizes = {"高风险": 5, "中风险": 7, "低风险": 9}
    pool, next_id = [], 1
    for name, size in sizes.items():
        for _ in range(size):
            pool.append({"id": next_id, "stratum": name})
            next_id += 1
    pool.sort(key=lambda c: (c["id"] % 3, c["id"]))
    out.append(
        target_vector(
            file="02-remainder-ties",
            title="Strata with tied fractional remainders",
            description=(
                "Quotas 5 x 3000 bp = 3/2, 7 x 5000 bp = 7/2, 9 x 1000 bp = 9/10; sum 59/10, "
                "total 6; floors 1 + 3 + 0 = 4; the 2 remaining seats go to 低风险 (9/10), then "
                "to the one of 高风险 / 中风险 (both 1/2) with the smaller tie key. Stratum names "
                "are Chinese: tie keys and rank keys hash their UTF-8 bytes; keys sort by code "
                "point (中 U+4E2D < 低 U+4F4E < 高 U+9AD8)."
            ),
            draw_id="D-2026-0002",
            task=_task(2),
            pool=pool,
            params=_target_params(
                2,
                {
                    "高风险": {"ratio_bp": 3000, "min": None, "max": None},
                    "中风险": {"ratio_bp": 5000, "min": None, "max": None},
                    "低风险": {"ratio_bp": 1000, "min": None, "max": None},
                },
            ),
            secret=fixed_secret(1),
        )
    )

    # 3 — min, max and pool-size clamps, a stratum absent from the parameters.
    sizes = {"x": 10, "y": 20, "z": 2, "w": 6, "v": 4}
    pool = []
    for offset, (name, size) in enumerate(sizes.items()):
        pool.extend({"id": 1000 * (offset + 1) + k, "stratum": name} for k in range(1, size + 1))
    pool.reverse()
    out.append(
        target_vector(
            file="03-min-max-clamps",
            title="Minimum, maximum and pool-size clamps",
            description=(
                "x: quota 1, raised to its min 3. y: quota 10, lowered to its max 4. z: quota "
                "1/5 -> 0, raised to min 5, then clamped to its pool size 2. w: quota 6/5 -> 1, "
                "min 2 raises it to 2, then max 1 lowers it to 1 (min first, then max, then the "
                "pool). v: in the pool but not in the parameters, draws nothing. Rounded total "
                "12, drawn 3 + 4 + 2 + 1 + 0 = 10: clamps are applied after the allocation and "
                "nothing is redistributed."
            ),
            draw_id="D-2026-0003",
            task=_task(3),
            pool=pool,
            params=_target_params(
                3,
                {
                    "x": {"ratio_bp": 1000, "min": 3, "max": None},
                    "y": {"ratio_bp": 5000, "min": None, "max": 4},
                    "z": {"ratio_bp": 1000, "min": 5, "max": None},
                    "w": {"ratio_bp": 2000, "min": 2, "max": 1},
                },
            ),
            secret=fixed_secret(2),
        )
    )

    # 4 — witness entropy typed with Chinese text, odd spaces and a decomposed character.
    pool = [{"id": i, "stratum": "取水户" if i % 2 else "水利工程"} for i in range(2001, 2021)]
    out.append(
        target_vector(
            file="04-witness-entropy",
            title="Witness entropy (监督人) with Chinese text and extra white space",
            description=(
                "The witness entropy as typed: leading/trailing spaces, an ideographic space "
                "U+3000, a no-break space U+00A0, a tab, doubled spaces and 'u' + combining "
                "diaeresis U+0308 (NFC turns it into 'ü' U+00FC). inputs.witness_entropy is the "
                "text as typed; the record holds the normalised text, its only valid form (a "
                "record holding the typed text is INVALID: negative vector "
                "n21-witness-entropy-not-normalised)."
            ),
            draw_id="D-2026-0004",
            task=_task(4),
            pool=pool,
            params=_target_params(
                4,
                {
                    "取水户": {"ratio_bp": 2000, "min": 1, "max": None},
                    "水利工程": {"ratio_bp": 2000, "min": 1, "max": None},
                },
            ),
            secret=fixed_secret(3),
            witness=(
                "  监督人：张三、Lu\u0308 Wei\u3000（福彩3D 第2026123期）\u00a0 开奖号码\t5  8  2  "
            ),
        )
    )

    # 5 — inspector groups with conflicts (回避), a load cap and one_per_department.
    departments = {7: 3, 8: 3, 9: 3, 10: 12, 11: 12, 12: 12, 31: 1, 32: 1, 33: 1, 105: 2, 106: 2}
    inspectors = [{"id": i, "department": d} for i, d in sorted(departments.items(), reverse=True)]
    out.append(
        inspector_vector(
            file="05-inspector-groups",
            title="Inspector groups: conflicts (回避), load cap, one per department",
            description=(
                "4 targets listed as [1003, 9, 205, 10] and processed in ascending id "
                "(9, 10, 205, 1003); groups of 3; at most 2 groups per inspector; "
                "one_per_department [12, 3] is applied in ascending department id (3, then 12), "
                "although the pool's strata are the strings '12' < '3'. Declared conflicts "
                "exclude an inspector from one target only. expected.binding shows that each "
                "of the three rules changes the groups of this vector."
            ),
            draw_id=INSPECTOR_DRAW_ID,
            task=_task(5),
            inspectors=inspectors,
            params={
                "algorithm": p.ALGORITHM,
                "kind": "inspector",
                "task": _task(5),
                "targets": [1003, 9, 205, 10],
                "group_size": 3,
                "max_groups_per_inspector": 2,
                "one_per_department": [12, 3],
                "conflicts": INSPECTOR_CONFLICTS,
            },
            secret=fixed_secret(4),
            excluded=[
                {"id": 13, "reason": "certificate_expired"},
                {"id": 34, "reason": "status:leave"},
            ],
        )
    )

    # 6 — two substitute draws (递补抽取) recorded as a hash chain.
    departments = {41: 1, 42: 1, 43: 1, 44: 1, 51: 2, 52: 2, 53: 2, 54: 2}
    inspectors = [{"id": i, "department": d} for i, d in departments.items()]
    out.append(
        inspector_vector(
            file="06-substitutions",
            title="Two substitute draws (递补抽取) after an inspector draw",
            description=(
                "3 targets, groups of 2, at most 1 group per inspector. Substitution 1 replaces "
                "inspector 42 of target 21: 41 ranks above the substitute but has a declared "
                "conflict with 21. Substitution 2 replaces inspector 44 of target 22: inspector "
                "42, freed by substitution 1 (its load drops to 0), ranks above every other "
                "eligible inspector and is the substitute. Each substitute is the best-ranked "
                "inspector for that target who is not in its group, not unavailable for it, "
                "without a conflict and under the load cap. The events form a hash chain "
                "starting at the record_hash."
            ),
            draw_id=SUBSTITUTION_DRAW_ID,
            task=_task(6),
            inspectors=inspectors,
            params={
                "algorithm": p.ALGORITHM,
                "kind": "inspector",
                "task": _task(6),
                "targets": [21, 22, 23],
                "group_size": 2,
                "max_groups_per_inspector": 1,
                "one_per_department": [],
                "conflicts": SUBSTITUTION_CONFLICTS,
            },
            secret=fixed_secret(5),
            witness="2026-03-18 监督人 李四",
            substitutions=SUBSTITUTIONS,
        )
    )

    # 7 — the shape of the application's target records (app/draws/services.py).
    pool = []
    for k in range(1, 41):
        stratum = "special" if k % 13 == 0 else "ABCD"[k % 4]
        pool.append({"id": 300 + k, "stratum": stratum})
    strata = {}
    for name, ratio in [("A", 5000), ("B", 2000), ("C", 1000), ("D", 0), ("special", 10000)]:
        strata[name] = {"ratio_bp": ratio, "min": 1 if ratio else 0, "max": None}
    out.append(
        target_vector(
            file="07-application-target",
            title="A target record as the application writes it: strata A-D and special",
            description=(
                "Risk classes A-D and the 'special' stratum (flagged targets, R9.7) with the "
                "application's parameters (min 1 when the ratio is not 0), the excluded "
                "targets with reason codes, the task number and the witnesses' names; witness "
                "entropy stored already normalised."
            ),
            draw_id="9f0c3b6e2a5d4e1f8b7a6c5d4e3f2a1b",
            task=_task(7),
            pool=pool,
            params=_target_params(7, strata),
            secret=fixed_secret(6),
            witness="福彩3D 2026068 开奖号码 3 9 1",
            excluded=[{"id": 341, "reason": "not_live:cancelled"}],
        )
    )

    # 8 — the members added for the public draw ledger: attempt, previous_draw, entropy_source
    # in the parameters (hashed), ledger/committed_at/completed_at around the record (unhashed).
    pool = [{"id": 800 + k, "stratum": "ABC"[k % 3]} for k in range(1, 16)]
    strata = {name: {"ratio_bp": 3000, "min": 1, "max": None} for name in "ABC"}
    params = {
        **_target_params(8, strata),
        "attempt": 2,
        "previous_draw": "5b1e0c9d2f3a4b6c8d7e6f5a4b3c2d1e",
        "entropy_source": "中国福利彩票3D 第2026070期开奖号码",
    }
    out.append(
        target_vector(
            file="08-attempt-and-ledger-members",
            title="A second attempt with a declared public entropy source; ledger members",
            description=(
                "The task's first draw was cancelled: this is attempt 2, its parameters name "
                "the cancelled draw (previous_draw) and the public source of the entropy "
                "(entropy_source), all three covered by params_hash and so by the seed. The "
                "record also carries ledger, committed_at and completed_at: they are NOT "
                "covered by record_hash (they are written around it) and are checked against "
                "the public draw ledger instead (python -m app.draws.verify record.json "
                "--ledger ledger.json). The ledger values here are illustrative."
            ),
            draw_id="D-2026-0008",
            task=_task(8),
            pool=pool,
            params=params,
            secret=fixed_secret(7),
            witness="2026070 开奖号码 4 0 7",
            unhashed={
                "committed_at": "2026-04-01T09:00:00+08:00",
                "completed_at": "2026-04-01T21:35:00+08:00",
                "ledger": {
                    "commit": {"seq": 41, "hash": "1" * 64},
                    "complete": {"seq": 43, "hash": "3" * 64},
                },
            },
        )
    )

    # 9 — substitutes under one_per_department.
    departments = {61: 1, 62: 1, 63: 1, 64: 1, 71: 2, 72: 2, 73: 2, 74: 2}
    inspectors = [{"id": i, "department": d} for i, d in departments.items()]
    out.append(
        inspector_vector(
            file="09-substitutes-one-per-department",
            title="Substitutes keep one inspector of every listed department (一组一部门)",
            description=(
                "Groups of 3, one_per_department [1, 2], at most 2 groups per inspector. "
                "Substitution 1 replaces inspector 62, the only member of department 1 in the "
                "group of target 31: the substitute must be of department 1, so 64 is chosen "
                "although 74 (department 2) ranks above it. Substitution 2 replaces inspector "
                "72 of target 32, whose group keeps department 2 through 73: any eligible "
                "inspector may follow, and 62 (department 1, freed by substitution 1 and "
                "unavailable only for target 31) does. "
                "expected.substitutes_bound_by_one_per_department shows which substitute the "
                "rule changed."
            ),
            draw_id="D-2026-0900",
            task=_task(9),
            inspectors=inspectors,
            params={
                "algorithm": p.ALGORITHM,
                "kind": "inspector",
                "task": _task(9),
                "targets": [31, 32],
                "group_size": 3,
                "max_groups_per_inspector": 2,
                "one_per_department": [1, 2],
                "conflicts": [],
            },
            secret=fixed_secret(8),
            witness="2026-04-02 监督人 王五",
            substitutions=[
                (31, 62, "公务冲突", "", "2026-04-03T08:40:00+08:00"),
                (32, 72, "其他", "车辆故障，无法按时到达", "2026-04-03T08:55:00+08:00"),
            ],
        )
    )

    # 10 — a supplementary inspector draw (补充摇号, §12a) once the ranking is used up.
    departments = {81: 1, 82: 1, 83: 2, 84: 2, 85: 1}
    inspectors = [{"id": i, "department": d} for i, d in departments.items()]
    params = {
        "algorithm": p.ALGORITHM,
        "kind": "inspector",
        "task": _task(10),
        "targets": [1001, 1002],
        "group_size": 2,
        "max_groups_per_inspector": 1,
        "one_per_department": [],
        "conflicts": [],
    }
    witness = "2026-05-06 监督人 赵六"
    # Today's roster: the draw's inspectors still on duty (84 has left) and three added since.
    roster = [
        {"id": i, "department": d}
        for i, d in {203: 2, 81: 1, 82: 1, 83: 2, 85: 1, 201: 1, 202: 2}.items()
    ]
    out.append(
        inspector_vector(
            file="10-supplementary-draw",
            title="A supplementary inspector draw (补充摇号) when the ranking is used up",
            description=(
                "Two targets, groups of 2, at most 1 group per inspector, five inspectors: four "
                "are drawn. Substitution 1 replaces a member of the group of target 1001 by the "
                "only free inspector. Substitution 2 replaces that substitute too: the one "
                "replaced first is unavailable for this target and the others are at the cap, "
                "so the draw's ranking is used up (§12 would fail). It is a supplementary draw: "
                "the event carries today's roster as its pool (inspectors 201-203 added since "
                "the draw, 84 no longer on duty), pool_hash, and the substitute is the best "
                "eligible inspector of that pool ranked with the supplementary seed "
                "HMAC-SHA256(seed, 'supplement' 0x1F n 0x1F target 0x1F pool_hash 0x1F "
                "prev_hash) (expected.supplementary_draws)."
            ),
            draw_id="D-2026-1000",
            task=_task(10),
            inspectors=inspectors,
            params=params,
            secret=fixed_secret(9),
            witness=witness,
            substitutions=_used_up_then_supplement(
                "D-2026-1000", inspectors, params, fixed_secret(9), witness, roster
            ),
        )
    )
    return out


def _used_up_then_supplement(draw_id, inspectors, params, secret, witness, roster):
    """Vector 10's requests: the first member of target 1001's group is replaced (by the one
    free inspector), then that substitute, which leaves the ranking used up: a supplementary
    draw over `roster`."""
    pool = p.pool_from_inspectors(inspectors)
    seed = p.derive_seed(secret, draw_id, p.pool_hash(pool), p.params_hash(params), witness)
    groups = p.draw_inspectors(params["targets"], inspectors, [], params, seed)
    first = groups[1001][0]
    (free,) = {i["id"] for i in inspectors} - {i for g in groups.values() for i in g}
    return [
        (1001, first, "病假", "", "2026-05-07T08:30:00+08:00"),
        (1001, free, "公务冲突", "", "2026-05-07T09:10:00+08:00", roster),
    ]


# Inputs of vectors 5 and 6 were chosen (by trying draw ids in order) so that every rule they
# illustrate changes the result: expected.binding and tests/draws/test_protocol.py check it.
INSPECTOR_DRAW_ID = "D-2026-0500"
INSPECTOR_CONFLICTS = [[7, 9], [31, 10], [105, 205], [10, 1003], [8, 1003]]
SUBSTITUTION_DRAW_ID = "D-2026-0608"
SUBSTITUTION_CONFLICTS = [[41, 21], [52, 22]]
SUBSTITUTIONS = [
    (21, 42, "病假", "", "2026-03-19T09:30:00"),
    (22, 44, "回避", "新申报的亲属关系", "2026-03-19T10:05:00"),
]


# --- negative vectors ---------------------------------------------------------------------------


def rehash(record: dict) -> dict:
    """Recompute every hash a forger can recompute (pool_hash, params_hash, record_hash, the
    substitution chain): what is left to catch the forgery is the protocol's own rules."""
    try:
        record["pool_hash"] = p.sha256_hex(p.canonical_json(sorted_pool(record["pool"])))
    except (KeyError, TypeError):
        pass
    record["params_hash"] = p.sha256_hex(p.canonical_json(record["params"]))
    content = {k: v for k, v in record.items() if k not in p.UNHASHED_FIELDS}
    content["pool"] = sorted_pool(record["pool"])
    record["record_hash"] = p.sha256_hex(p.canonical_json(content))
    prev = record["record_hash"]
    for event in record.get("substitutions") or []:
        if isinstance(event, dict):
            event["prev_hash"] = prev
            event["event_hash"] = p.event_hash(event)
            prev = event["event_hash"]
    return record


def sorted_pool(pool):
    try:
        return sorted(pool, key=lambda c: c["id"])
    except (KeyError, TypeError):
        return pool


def _set(path: list, value):
    def change(record):
        target = record
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()


def _stratum_of(inspector: int, stratum: str):
    def change(record):
        for candidate in record["pool"]:
            if candidate["id"] == inspector:
                candidate["stratum"] = stratum

    return change


def _extra_member(record):
    record["pool"][0]["name"] = "张三"


# (file, base vector, title, the change, the one problem the verifier must report)
NEGATIVE = [
    (
        "n01-department-leading-zero",
        "05-inspector-groups",
        'Department stratum "03" for department 3',
        _stratum_of(7, "03"),
        "the record is malformed: candidate 7: department stratum '03' is not canonical "
        "decimal text",
    ),
    (
        "n02-department-plus-sign",
        "05-inspector-groups",
        'Department stratum "+3"',
        _stratum_of(7, "+3"),
        "the record is malformed: candidate 7: department stratum '+3' is not canonical "
        "decimal text",
    ),
    (
        "n03-department-space",
        "05-inspector-groups",
        'Department stratum " 3"',
        _stratum_of(7, " 3"),
        "the record is malformed: candidate 7: department stratum ' 3' is not canonical "
        "decimal text",
    ),
    (
        "n04-department-arabic-indic-digit",
        "05-inspector-groups",
        "Department stratum written with ARABIC-INDIC DIGIT THREE U+0663",
        _stratum_of(7, "\u0663"),
        "the record is malformed: candidate 7: department stratum '\u0663' is not canonical "
        "decimal text",
    ),
    (
        "n05-department-fullwidth-digit",
        "05-inspector-groups",
        "Department stratum written with FULLWIDTH DIGIT THREE U+FF13",
        _stratum_of(7, "\uff13"),
        "the record is malformed: candidate 7: department stratum '\uff13' is not canonical "
        "decimal text",
    ),
    (
        "n06-pool-entry-extra-member",
        "01-simple-target",
        "A pool entry with a member besides id and stratum (it would be covered by no hash)",
        _extra_member,
        "the record is malformed: candidate 101: a pool entry has only id and stratum, not name",
    ),
    (
        "n07-cap-true",
        "05-inspector-groups",
        "max_groups_per_inspector true (Python would read it as 1)",
        _set(["params", "max_groups_per_inspector"], True),
        "the record is malformed: max_groups_per_inspector must be null or an integer of at "
        "least 1",
    ),
    (
        "n08-cap-negative",
        "05-inspector-groups",
        "max_groups_per_inspector -1 (would make nobody eligible)",
        _set(["params", "max_groups_per_inspector"], -1),
        "the record is malformed: max_groups_per_inspector must be null or an integer of at "
        "least 1",
    ),
    (
        "n09-ratio-missing",
        "01-simple-target",
        "A stratum without ratio_bp",
        _set(["params", "strata", "general", "ratio_bp"], _DELETE),
        "the record is malformed: stratum general: ratio_bp is missing",
    ),
    (
        "n10-absent-stratum-ratio-out-of-range",
        "03-min-max-clamps",
        "A stratum absent from the pool with ratio_bp 20000",
        _set(["params", "strata", "u"], {"ratio_bp": 20000, "min": None, "max": None}),
        "the record is malformed: stratum u: ratio_bp must be an integer from 0 to 10000",
    ),
    (
        "n11-absent-stratum-negative-min",
        "03-min-max-clamps",
        "A stratum absent from the pool with min -5",
        _set(["params", "strata", "u"], {"ratio_bp": 0, "min": -5, "max": None}),
        "the record is malformed: stratum u: min and max must be non-negative integers or null",
    ),
    (
        "n12-substitutions-null",
        "05-inspector-groups",
        "substitutions null instead of a list",
        _set(["substitutions"], None),
        "the record is malformed: substitutions must be a list ([] when there is none)",
    ),
    (
        "n13-kind-differs-from-params",
        "01-simple-target",
        "params.kind differs from the record's kind",
        _set(["params", "kind"], "inspector"),
        "the record is malformed: params.kind is 'inspector', the record's kind is 'target'",
    ),
    (
        "n14-task-differs-from-params",
        "01-simple-target",
        "The record's task differs from params.task",
        _set(["task"], "东水双随机〔2026〕11号"),
        "the record is malformed: task differs from params.task",
    ),
    (
        "n15-wrong-substitute-rechained",
        "06-substitutions",
        "A wrong substitute with the event chain recomputed",
        _set(["substitutions", 0, "substitute"], 41),
        "substitution 1: substitute should be inspector 53, the record says 41",
    ),
    (
        "n16-substitution-at-malformed",
        "06-substitutions",
        "A substitution time that is not YYYY-MM-DDTHH:MM:SS",
        _set(["substitutions", 0, "at"], "2026-03-19 09:30"),
        "the record is malformed: substitution 1: at '2026-03-19 09:30' is not "
        "YYYY-MM-DDTHH:MM:SS (optionally with a UTC offset ±HH:MM)",
    ),
    (
        "n17-substitution-reason-unknown",
        "06-substitutions",
        "A substitution reason outside the list",
        _set(["substitutions", 0, "reason"], "出差"),
        "the record is malformed: substitution 1: reason '出差' is not one of "
        "病假、公务冲突、回避、其他",
    ),
    (
        "n18-secret-upper-case",
        "01-simple-target",
        "The server secret in upper-case hexadecimal",
        lambda record: record.update(server_secret=record["server_secret"].upper()),
        "the record is malformed: server_secret must be 64 lower-case hexadecimal characters",
    ),
    (
        "n19-witness-entropy-null",
        "01-simple-target",
        "witness_entropy null instead of the empty string",
        _set(["witness_entropy"], None),
        'the record is malformed: witness_entropy must be text ("" when there is none), not null',
    ),
    (
        "n20-witness-entropy-absent",
        "01-simple-target",
        "No witness_entropy member",
        _set(["witness_entropy"], _DELETE),
        "the record is malformed: witness_entropy is missing from the record",
    ),
    (
        "n21-witness-entropy-not-normalised",
        "04-witness-entropy",
        "witness_entropy as typed, not normalised",
        lambda record: record.update(
            witness_entropy="  监督人：张三、Lu\u0308 Wei\u3000（福彩3D 第2026123期）\u00a0 开奖号码\t5  8  2  "
        ),
        "the record is malformed: witness_entropy is not in normal form (NFC, white space "
        "collapsed)",
    ),
    (
        "n22-substitute-breaks-one-per-department",
        "09-substitutes-one-per-department",
        "A substitute of the wrong department under one_per_department, chain recomputed",
        _set(["substitutions", 0, "substitute"], 74),
        "substitution 1: substitute should be inspector 64, the record says 74",
    ),
    (
        "n23-substitution-extra-member",
        "06-substitutions",
        "A substitution event with an unknown member",
        _set(["substitutions", 0, "operator"], "王五"),
        "the record is malformed: substitution 1: unknown member operator",
    ),
    (
        "n24-conflict-ids-as-text",
        "05-inspector-groups",
        "A conflict pair written as text",
        _set(["params", "conflicts", 0], ["7", "9"]),
        "the record is malformed: conflict ['7', '9'] is not a pair [inspector_id, target_id]",
    ),
    (
        "n25-ratio-true",
        "01-simple-target",
        "ratio_bp true",
        _set(["params", "strata", "general", "ratio_bp"], True),
        "the record is malformed: stratum general: ratio_bp must be an integer from 0 to 10000",
    ),
    (
        "n26-candidate-in-pool-and-excluded",
        "07-application-target",
        "A candidate listed in the pool and in excluded",
        lambda record: record["excluded"].append({"id": 301, "reason": "not_live:cancelled"}),
        "the record is malformed: candidate 301 is both in the pool and excluded",
    ),
    (
        "n27-other-without-note",
        "06-substitutions",
        "The reason 其他 without a note",
        lambda record: record["substitutions"][0].update(reason="其他", note=""),
        "the record is malformed: substitution 1: the reason 其他 needs a note",
    ),
    (
        "n28-group-key-not-canonical",
        "05-inspector-groups",
        'A group keyed "09" for target 9',
        lambda record: record["groups"].update({"09": record["groups"].pop("9")}),
        "the record is malformed: groups: key '09' is not a target id in canonical decimal text",
    ),
    (
        "n29-supplement-pool-hash-differs",
        "10-supplementary-draw",
        "A supplementary draw whose pool_hash is not its pool's (the pool was changed after)",
        lambda record: record["substitutions"][1].update(pool_hash="e" * 64),
        "substitution 2: pool_hash does not match its pool",
    ),
    (
        "n30-supplement-pool-not-canonical",
        "10-supplementary-draw",
        "A supplementary draw whose pool is listed in another order",
        lambda record: record["substitutions"][1].update(
            pool=list(reversed(record["substitutions"][1]["pool"]))
        ),
        "the record is malformed: substitution 2: pool is not in canonical order (sorted by id)",
    ),
]


def negative_vectors(positive: dict[str, dict]) -> list[tuple[str, dict]]:
    out = []
    for name, base, title, change, problem in NEGATIVE:
        record = json.loads(json.dumps(positive[base]["record"]))
        change(record)
        rehash(record)
        problems = p.verify(record)
        assert problems == [problem], (name, problems)
        out.append(
            (
                name,
                {
                    "title": title,
                    "base": base,
                    "expected_problems": problems,
                    "record": record,
                },
            )
        )
    return out


NEGATIVE_DIR = VECTOR_DIR / "negative"


def render() -> dict[Path, str]:
    files = {}
    positive = dict(vectors())
    for name, vector in positive.items():
        files[VECTOR_DIR / f"{name}.json"] = dump(vector)
        files[VECTOR_DIR / f"{name}.record.json"] = dump(vector["record"])
    for name, vector in negative_vectors(positive):
        files[NEGATIVE_DIR / f"{name}.json"] = dump(vector)
    return files


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for path, text in render().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
    for path in stale:
        print(
            ("differs: " if check else "wrote: ") + str(path.relative_to(VECTOR_DIR.parent.parent))
        )
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
