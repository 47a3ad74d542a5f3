"""The draw protocol dsr-sha256-v1: pure functions, standard library only.

Everything a stranger needs to re-run a draw from its published record is here and in
docs/draw-protocol.md, which describes the same steps byte for byte. No Flask, no database:
`python -m app.draws.verify record.json` runs this module on a machine with nothing but Python.

Conventions used throughout:
- text is UTF-8; hashes are SHA-256, written as 64 lower-case hexadecimal characters;
- canonical JSON: keys sorted, separators "," and ":", no whitespace, non-ASCII kept as is,
  integers only (no floating point anywhere: ratios are integer basis points, 500 = 5 %);
- SEP is the byte 0x1F (ASCII unit separator), which no id, stratum or hash contains.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import unicodedata
from fractions import Fraction

ALGORITHM = "dsr-sha256-v1"
COMMIT_PREFIX = b"dsr-commit"
SEP = "\x1f"
SECRET_BYTES = 32


class ProtocolError(ValueError):
    """Inputs that the protocol refuses (the message says which and why)."""


# --- encodings -------------------------------------------------------------------------------


def canonical_json(value) -> bytes:
    """The one byte string a JSON value is hashed as."""
    _check_json(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def _check_json(value) -> None:
    if isinstance(value, float):
        raise ProtocolError("floating-point numbers are not allowed in a draw record")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProtocolError(f"object keys must be text, not {key!r}")
            _check_json(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_json(item)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_witness_entropy(text: str | None) -> str:
    """Witness entropy as typed: Unicode NFC, surrounding white space removed, inner runs of
    white space collapsed to one space. Control characters are refused."""
    text = unicodedata.normalize("NFC", text or "")
    if any(unicodedata.category(ch) == "Cc" and ch not in " \t\r\n" for ch in text):
        raise ProtocolError("witness entropy must not contain control characters")
    return " ".join(text.split())


# --- pool and parameters ----------------------------------------------------------------------


def canonical_pool(candidates) -> list[dict]:
    """Candidates as [{"id": int, "stratum": str}, ...] sorted by id; ids must be unique
    positive integers and strata non-empty text without SEP."""
    pool = []
    append = pool.append
    good_strata: set[str] = set()  # a pool has a handful of strata: check each once
    for candidate in candidates:
        cid, stratum = candidate["id"], candidate["stratum"]
        if type(cid) is not int or cid <= 0:  # type(), not isinstance: True is no id
            raise ProtocolError(f"candidate id {cid!r} is not a positive integer")
        if stratum not in good_strata:
            if type(stratum) is not str or not stratum or SEP in stratum:
                raise ProtocolError(f"candidate {cid}: invalid stratum {stratum!r}")
            good_strata.add(stratum)
        append({"id": cid, "stratum": stratum})
    pool.sort(key=lambda c: c["id"])
    for before, after in zip(pool, pool[1:], strict=False):
        if before["id"] == after["id"]:
            raise ProtocolError(f"candidate id {after['id']} appears twice in the pool")
    return pool


def canonical_pool_json(candidates) -> bytes:
    """canonical_json(canonical_pool(candidates)), written directly: a pool can hold a million
    candidates, and its shape is fixed (two keys, "id" before "stratum")."""
    return encode_pool(canonical_pool(candidates))


def encode_pool(canonical: list[dict]) -> bytes:
    """canonical_pool_json for a pool that is canonical_pool's output already."""
    encoded: dict[str, str] = {}  # a pool has a handful of strata: encode each once

    def stratum(name):
        if name not in encoded:
            encoded[name] = json.dumps(name, ensure_ascii=False)
        return encoded[name]

    parts = [f'{{"id":{c["id"]:d},"stratum":{stratum(c["stratum"])}}}' for c in canonical]
    return ("[" + ",".join(parts) + "]").encode("utf-8")


def pool_hash(candidates) -> str:
    return sha256_hex(canonical_pool_json(candidates))


def params_hash(params: dict) -> str:
    if params.get("algorithm") != ALGORITHM:
        raise ProtocolError(f"params.algorithm must be {ALGORITHM}")
    return sha256_hex(canonical_json(params))


# --- secret, commitment, seed -----------------------------------------------------------------


def commitment(secret: bytes) -> str:
    if len(secret) != SECRET_BYTES:
        raise ProtocolError(f"the server secret must be {SECRET_BYTES} bytes")
    return sha256_hex(COMMIT_PREFIX + secret)


def derive_seed(
    secret: bytes, draw_id: str, pool_digest: str, params_digest: str, witness_entropy: str = ""
) -> bytes:
    """seed = HMAC-SHA256(key = secret, msg = draw_id SEP pool_hash SEP params_hash SEP w)."""
    if SEP in draw_id:
        raise ProtocolError("draw id must not contain the separator")
    w = normalise_witness_entropy(witness_entropy)
    message = SEP.join([draw_id, pool_digest, params_digest, w]).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()


def tie_key(seed: bytes, label: str) -> bytes:
    return hashlib.sha256(seed + f"tie{SEP}{label}".encode()).digest()


def rank_key(seed: bytes, kind: str, group: str, candidate_id: int) -> bytes:
    """SHA-256(seed || UTF-8(kind SEP group SEP decimal id)): smaller ranks first.

    `group` is the stratum for targets and the target id (decimal) for inspectors. Whole
    32-byte digests are compared, so there is no modulo bias, and the order does not depend
    on how the pool was listed."""
    return hashlib.sha256(seed + f"{kind}{SEP}{group}{SEP}{candidate_id}".encode()).digest()


def rank(seed: bytes, kind: str, group: str, ids, limit: int | None = None) -> list[int]:
    """The ids in rank order (the first `limit` of them when given); equal to sorting by
    rank_key, with the common prefix of the hashed bytes hashed once."""
    prefix = hashlib.sha256(seed + f"{kind}{SEP}{group}{SEP}".encode())

    def key(cid):
        digest = prefix.copy()
        digest.update(str(cid).encode())
        return digest.digest()

    # Both sorts are stable: starting from ids in ascending order, equal digests (which
    # SHA-256 makes practically impossible) stay in id order, as the protocol says.
    ordered = sorted(ids)
    if limit is None:
        return sorted(ordered, key=key)
    return heapq.nsmallest(limit, ordered, key=key)


# --- allocation across strata -------------------------------------------------------------------


def allocate(pool_sizes: dict[str, int], strata: dict[str, dict], seed: bytes) -> dict[str, int]:
    """How many to draw per stratum.

    quota_s = pool_s * ratio_bp_s / 10000 (exact fractions); the total is the quotas' sum
    rounded half up; each stratum first gets floor(quota_s); the seats left go one each to the
    strata with the largest fractional part, ties broken by tie_key(seed, stratum) ascending.
    Then each stratum is raised to its minimum and lowered to its maximum, never above its
    pool size. A stratum in the pool but not in the parameters draws nothing."""
    quotas = {}
    for name, size in pool_sizes.items():
        spec = strata.get(name)
        ratio = 0 if spec is None else spec["ratio_bp"]
        if not isinstance(ratio, int) or not 0 <= ratio <= 10000:
            raise ProtocolError(f"stratum {name}: ratio_bp must be an integer from 0 to 10000")
        quotas[name] = Fraction(size * ratio, 10000)
    total = int(sum(quotas.values(), Fraction(0)) + Fraction(1, 2))
    counts = {name: int(q) for name, q in quotas.items()}  # floor for non-negative fractions
    remaining = total - sum(counts.values())
    order = sorted(
        quotas,
        key=lambda name: (-(quotas[name] - int(quotas[name])), tie_key(seed, name), name),
    )
    for name in order[:remaining]:
        counts[name] += 1
    for name, size in pool_sizes.items():
        spec = strata.get(name) or {}
        low = spec.get("min") or 0
        high = spec.get("max")
        for bound in (low, high):
            if bound is not None and (
                not isinstance(bound, int) or isinstance(bound, bool) or bound < 0
            ):
                raise ProtocolError(
                    f"stratum {name}: min and max must be non-negative integers or null"
                )
        count = max(counts[name], low)
        if high is not None:
            count = min(count, high)
        counts[name] = min(count, size)
    return counts


# --- target draw --------------------------------------------------------------------------------


def draw_targets(pool, params: dict, seed: bytes) -> dict[str, list[int]]:
    """The selected target ids per stratum, in rank order."""
    return select_targets(canonical_pool(pool), params, seed)


def select_targets(pool: list[dict], params: dict, seed: bytes) -> dict[str, list[int]]:
    """draw_targets for a pool that is canonical_pool's output already."""
    by_stratum: dict[str, list[int]] = {}
    for candidate in pool:
        by_stratum.setdefault(candidate["stratum"], []).append(candidate["id"])
    counts = allocate({s: len(ids) for s, ids in by_stratum.items()}, params["strata"], seed)
    return {
        stratum: rank(seed, "target", stratum, ids, counts[stratum])
        for stratum, ids in sorted(by_stratum.items())
    }


# --- inspector draw -----------------------------------------------------------------------------


def inspector_ranking(seed: bytes, target_id: int, inspector_ids) -> list[int]:
    return rank(seed, "inspector", str(target_id), inspector_ids)


def draw_inspectors(
    targets: list[int], inspectors: list[dict], conflicts, params: dict, seed: bytes
) -> dict[int, list[int]]:
    """A group of `group_size` inspectors for each target, targets taken in ascending id.

    inspectors: [{"id": int, "department": int}]; conflicts: [[inspector_id, target_id], ...].
    For each target the eligible inspectors (no declared conflict with it, fewer than
    `max_groups_per_inspector` groups so far) are ranked with inspector_ranking; if
    `one_per_department` lists departments, the best-ranked eligible inspector of each of them
    (in ascending department id) is taken first, then the group is filled in rank order."""
    size = params["group_size"]
    if not isinstance(size, int) or size < 2:
        raise ProtocolError("group_size must be an integer of at least 2")
    cap = params.get("max_groups_per_inspector")
    required = sorted(params.get("one_per_department") or [])
    if len(set(required)) != len(required) or len(required) > size:
        raise ProtocolError(
            "one_per_department must list distinct departments, at most group_size of them"
        )
    if len(set(targets)) != len(targets):
        raise ProtocolError("a target appears twice in params.targets")
    department = {i["id"]: i["department"] for i in inspectors}
    blocked = {(int(a), int(b)) for a, b in conflicts}
    load: dict[int, int] = {}
    groups: dict[int, list[int]] = {}
    for target in sorted(targets):
        ranking = [
            i
            for i in inspector_ranking(seed, target, department)
            if (i, target) not in blocked and (cap is None or load.get(i, 0) < cap)
        ]
        group: list[int] = []
        for dept in required:
            pick = next((i for i in ranking if department[i] == dept and i not in group), None)
            if pick is None:
                raise ProtocolError(f"target {target}: no eligible inspector of department {dept}")
            group.append(pick)
        for inspector in ranking:
            if len(group) >= size:
                break
            if inspector not in group:
                group.append(inspector)
        if len(group) < size:
            raise ProtocolError(
                f"target {target}: only {len(group)} eligible inspectors for a group of {size}"
            )
        for inspector in group:
            load[inspector] = load.get(inspector, 0) + 1
        groups[target] = group
    return groups


def substitute(
    seed: bytes,
    target: int,
    group: list[int],
    inspectors: list[dict],
    conflicts,
    unavailable,
    params: dict,
    load: dict[int, int],
) -> int:
    """The replacement for a member of `group`: the best-ranked inspector for this target who
    is not in the group, not unavailable, without a conflict with the target and under the
    load cap. No new randomness, no choice."""
    cap = params.get("max_groups_per_inspector")
    blocked = {(int(a), int(b)) for a, b in conflicts}
    ids = [i["id"] for i in inspectors]
    for inspector in inspector_ranking(seed, target, ids):
        if inspector in group or inspector in unavailable or (inspector, target) in blocked:
            continue
        if cap is not None and load.get(inspector, 0) >= cap:
            continue
        return inspector
    raise ProtocolError(f"target {target}: no eligible inspector left for a substitute")


# --- records ------------------------------------------------------------------------------------

# Not covered by record_hash: the hash itself, the secret and seed (revealed later, so the hash
# is the same before and after publication), and the substitutions, which are appended after
# the draw and form their own hash chain starting from record_hash.
UNHASHED_FIELDS = ("record_hash", "server_secret", "seed", "substitutions")


def record_hash(record: dict, pool_json: bytes | None = None) -> str:
    """SHA-256 of the canonical JSON of the record without UNHASHED_FIELDS; the pool in
    canonical order, like pool_hash. `pool_json` may pass canonical_pool_json(record["pool"])
    when the caller has it already (the application stores exactly those bytes)."""
    content = {k: v for k, v in record.items() if k not in UNHASHED_FIELDS}
    if "pool" not in content:
        return sha256_hex(canonical_json(content))
    # Encode the (possibly huge) pool with canonical_pool_json and splice it in where a marker
    # stands; the bytes are those canonical_json would give for the whole object.
    marker = "\u0000pool\u0000"
    content["pool"] = marker
    text = canonical_json(content)
    placeholder = json.dumps(marker, ensure_ascii=False).encode("utf-8")
    if text.count(placeholder) != 1:
        raise ProtocolError("the record contains the pool marker")
    encoded_pool = pool_json if pool_json is not None else canonical_pool_json(record["pool"])
    return sha256_hex(text.replace(placeholder, encoded_pool))


def event_hash(event: dict) -> str:
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "event_hash"}))


def pool_from_inspectors(inspectors: list[dict]) -> list[dict]:
    """Inspectors enter the pool hash as candidates whose stratum is their department id."""
    return [{"id": i["id"], "stratum": str(i["department"])} for i in inspectors]


def inspectors_from_pool(pool: list[dict]) -> list[dict]:
    return [{"id": c["id"], "department": int(c["stratum"])} for c in pool]


def replay_substitutions(record: dict, seed: bytes) -> tuple[dict[int, list[int]], list[str]]:
    """Apply the record's substitutions to its groups in order, checking each against the
    protocol; returns the final groups and the differences found."""
    params = record["params"]
    inspectors = inspectors_from_pool(record["pool"])
    conflicts = params.get("conflicts") or []
    groups = {int(t): list(g) for t, g in record["groups"].items()}
    load: dict[int, int] = {}
    for group in groups.values():
        for inspector in group:
            load[inspector] = load.get(inspector, 0) + 1
    unavailable: dict[int, set[int]] = {}
    problems = []
    prev = record.get("record_hash")
    for n, event in enumerate(record.get("substitutions") or [], start=1):
        target, replaced = int(event["target"]), int(event["replaced"])
        if event.get("prev_hash") != prev:
            problems.append(f"substitution {n}: prev_hash does not link to the previous entry")
        if event_hash(event) != event.get("event_hash"):
            problems.append(f"substitution {n}: event_hash does not match its content")
        prev = event.get("event_hash")
        group = groups.get(target)
        if group is None or replaced not in group:
            problems.append(
                f"substitution {n}: inspector {replaced} is not in the group of target {target}"
            )
            continue
        unavailable.setdefault(target, set()).add(replaced)
        try:
            expected = substitute(
                seed, target, group, inspectors, conflicts, unavailable[target], params, load
            )
        except ProtocolError as exc:
            problems.append(f"substitution {n}: {exc}")
            continue
        if expected != event["substitute"]:
            problems.append(
                f"substitution {n}: substitute should be inspector {expected}, "
                f"the record says {event['substitute']}"
            )
        group[group.index(replaced)] = event["substitute"]
        load[replaced] -= 1
        load[event["substitute"]] = load.get(event["substitute"], 0) + 1
    return groups, problems


def verify(record: dict) -> list[str]:
    """Recompute every hash and the selection of a published record. Returns what differs
    (empty when the record is VALID)."""
    problems: list[str] = []
    if record.get("algorithm") != ALGORITHM:
        return [f"algorithm is {record.get('algorithm')!r}, this verifier knows {ALGORITHM}"]
    secret_hex = record.get("server_secret")
    if not secret_hex:
        return ["server_secret is not in the record: it is revealed when the results are published"]
    try:
        secret = bytes.fromhex(secret_hex)
        if commitment(secret) != record.get("commitment"):
            problems.append("commitment: SHA-256('dsr-commit' || server_secret) does not match")
        pool = canonical_pool(record["pool"])
        if pool_hash(pool) != record.get("pool_hash"):
            problems.append("pool_hash: the pool does not hash to the recorded value")
        if params_hash(record["params"]) != record.get("params_hash"):
            problems.append("params_hash: the parameters do not hash to the recorded value")
        if record_hash(record) != record.get("record_hash"):
            problems.append("record_hash: the record's content does not hash to the recorded value")
        seed = derive_seed(
            secret,
            record["draw_id"],
            record["pool_hash"],
            record["params_hash"],
            record.get("witness_entropy", ""),
        )
        if record.get("seed") and record["seed"] != seed.hex():
            problems.append("seed: the recorded seed differs from the one derived")
        if record.get("kind") == "target":
            expected = draw_targets(pool, record["params"], seed)
            recorded = {k: list(v) for k, v in record["selection"].items()}
            for stratum in sorted(set(expected) | set(recorded)):
                if expected.get(stratum, []) != recorded.get(stratum, []):
                    problems.append(
                        f"selection {stratum}: expected {expected.get(stratum, [])}, "
                        f"the record says {recorded.get(stratum, [])}"
                    )
        elif record.get("kind") == "inspector":
            params = record["params"]
            expected = draw_inspectors(
                params["targets"],
                inspectors_from_pool(pool),
                params.get("conflicts") or [],
                params,
                seed,
            )
            recorded = {int(t): list(g) for t, g in record["groups"].items()}
            for target in sorted(set(expected) | set(recorded)):
                if expected.get(target) != recorded.get(target):
                    problems.append(
                        f"group of target {target}: expected {expected.get(target)}, "
                        f"the record says {recorded.get(target)}"
                    )
            problems.extend(replay_substitutions(record, seed)[1])
        else:
            problems.append(f"kind {record.get('kind')!r} is neither 'target' nor 'inspector'")
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"the record is malformed: {exc!r}")
    return problems
