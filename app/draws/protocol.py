"""The draw protocol dsr-sha256-v1: pure functions, standard library only.

Everything a stranger needs to re-run a draw from its published record is here and in
docs/draw-protocol.md, which describes the same steps byte for byte. No Flask, no database:
`python -m app.draws.verify record.json` runs this module on a machine with nothing but Python.

Conventions used throughout:
- text is UTF-8; hashes are SHA-256, written as 64 lower-case hexadecimal characters;
- canonical JSON: keys sorted, separators "," and ":", no whitespace, non-ASCII kept as is,
  integers only (no floating point anywhere: ratios are integer basis points, 500 = 5 %);
- SEP is the byte 0x1F (ASCII unit separator), which no id, stratum or hash contains;
- a record has one reading: `check_record` refuses every member of the wrong type or form
  (docs/draw-protocol.md §16 lists the rules) before anything is recomputed.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import re
import unicodedata
from fractions import Fraction

ALGORITHM = "dsr-sha256-v1"
COMMIT_PREFIX = b"dsr-commit"
SEP = "\x1f"
SECRET_BYTES = 32
SUBSTITUTION_REASONS = ("病假", "公务冲突", "回避", "其他")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})?", re.ASCII)


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
    positive integers, strata non-empty text without SEP, and an entry has no other member
    (one that did would be covered by no hash)."""
    pool = []
    append = pool.append
    good_strata: set[str] = set()  # a pool has a handful of strata: check each once
    for candidate in candidates:
        try:
            cid, stratum = candidate["id"], candidate["stratum"]
        except (KeyError, TypeError, IndexError):
            raise ProtocolError(
                f"a pool entry must be an object with the members id and stratum: {candidate!r}"
            ) from None
        if type(cid) is not int or cid <= 0:  # type(), not isinstance: True is no id
            raise ProtocolError(f"candidate id {cid!r} is not a positive integer")
        if len(candidate) != 2:
            extra = ", ".join(sorted(str(k) for k in candidate if k not in ("id", "stratum")))
            raise ProtocolError(
                f"candidate {cid}: a pool entry has only id and stratum, not {extra}"
            )
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


SUPPLEMENT_LABEL = "supplement"


def supplement_seed(seed: bytes, n: int, target: int, pool_digest: str, prev_hash: str) -> bytes:
    """The seed of a supplementary draw (补充摇号, §12a), the n-th event of the substitution
    chain: HMAC-SHA256(key = the draw's seed, msg = "supplement" SEP decimal(n) SEP
    decimal(target) SEP pool_hash SEP prev_hash), the hashes as their 64-character hex text.
    Fixed by the draw's committed secret and its entropy, the supplementary pool and the
    event's place in the chain: no new secret, no choice."""
    message = SEP.join([SUPPLEMENT_LABEL, str(n), str(target), pool_digest, prev_hash]).encode(
        "utf-8"
    )
    return hmac.new(seed, message, hashlib.sha256).digest()


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


def _is_count(value) -> bool:
    """A non-negative integer (not a boolean: True is no count)."""
    return type(value) is int and value >= 0


def _is_id(value) -> bool:
    """A positive integer (not a boolean)."""
    return type(value) is int and value > 0


def check_strata(strata, complete: bool = False) -> None:
    """Every stratum of the parameters, in the pool or not: an object with `ratio_bp` (an
    integer from 0 to 10000), `min` and `max` (null or a non-negative integer), nothing else.
    `complete` (a record's parameters) requires all three members; the functions of this module
    take a missing `min` or `max` as null."""
    if not isinstance(strata, dict):
        raise ProtocolError("params.strata must be an object")
    for name, spec in strata.items():
        if type(name) is not str or not name or SEP in name:
            raise ProtocolError(f"invalid stratum name {name!r} in params.strata")
        if not isinstance(spec, dict):
            raise ProtocolError(f"stratum {name}: must be an object with ratio_bp, min and max")
        extra = sorted(str(k) for k in spec if k not in ("ratio_bp", "min", "max"))
        if extra:
            raise ProtocolError(f"stratum {name}: unknown member {', '.join(extra)}")
        if "ratio_bp" not in spec:
            raise ProtocolError(f"stratum {name}: ratio_bp is missing")
        ratio = spec["ratio_bp"]
        if type(ratio) is not int or not 0 <= ratio <= 10000:
            raise ProtocolError(f"stratum {name}: ratio_bp must be an integer from 0 to 10000")
        for bound in ("min", "max"):
            if complete and bound not in spec:
                raise ProtocolError(f"stratum {name}: {bound} is missing (null for no bound)")
            value = spec.get(bound)
            if value is not None and not _is_count(value):
                raise ProtocolError(
                    f"stratum {name}: min and max must be non-negative integers or null"
                )


def allocate(pool_sizes: dict[str, int], strata: dict[str, dict], seed: bytes) -> dict[str, int]:
    """How many to draw per stratum.

    quota_s = pool_s * ratio_bp_s / 10000 (exact fractions); the total is the quotas' sum
    rounded half up; each stratum first gets floor(quota_s); the seats left go one each to the
    strata with the largest fractional part, ties broken by tie_key(seed, stratum) ascending.
    Then each stratum is raised to its minimum and lowered to its maximum, never above its
    pool size. A stratum in the pool but not in the parameters draws nothing; every stratum of
    the parameters is checked, in the pool or not."""
    check_strata(strata)
    quotas = {}
    for name, size in pool_sizes.items():
        spec = strata.get(name)
        ratio = 0 if spec is None else spec["ratio_bp"]
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


def _check_cap(cap) -> None:
    if cap is not None and (type(cap) is not int or cap < 1):
        raise ProtocolError("max_groups_per_inspector must be null or an integer of at least 1")


def _required_departments(params: dict, size: int) -> list[int]:
    required = params.get("one_per_department", [])
    if not isinstance(required, list) or not all(_is_id(d) for d in required):
        raise ProtocolError("one_per_department must be a list of department ids")
    if len(set(required)) != len(required) or len(required) > size:
        raise ProtocolError(
            "one_per_department must list distinct departments, at most group_size of them"
        )
    return sorted(required)


def _conflict_pairs(conflicts) -> set[tuple[int, int]]:
    if not isinstance(conflicts, (list, tuple)):
        raise ProtocolError("conflicts must be a list of [inspector_id, target_id] pairs")
    pairs = set()
    for pair in conflicts:
        if not (
            isinstance(pair, (list, tuple)) and len(pair) == 2 and all(_is_id(x) for x in pair)
        ):
            raise ProtocolError(f"conflict {pair!r} is not a pair [inspector_id, target_id]")
        pairs.add((pair[0], pair[1]))
    return pairs


def _group_size(params: dict) -> int:
    size = params.get("group_size")
    if type(size) is not int or size < 2:
        raise ProtocolError("group_size must be an integer of at least 2")
    return size


def _departments(inspectors: list[dict]) -> dict[int, int]:
    department = {}
    for inspector in inspectors:
        if not _is_id(inspector["department"]):
            raise ProtocolError(
                f"inspector {inspector['id']}: department {inspector['department']!r} "
                "is not a positive integer"
            )
        department[inspector["id"]] = inspector["department"]
    return department


def draw_inspectors(
    targets: list[int], inspectors: list[dict], conflicts, params: dict, seed: bytes
) -> dict[int, list[int]]:
    """A group of `group_size` inspectors for each target, targets taken in ascending id.

    inspectors: [{"id": int, "department": int}]; conflicts: [[inspector_id, target_id], ...].
    For each target the eligible inspectors (no declared conflict with it, fewer than
    `max_groups_per_inspector` groups so far) are ranked with inspector_ranking; if
    `one_per_department` lists departments, the best-ranked eligible inspector of each of them
    (in ascending department id) is taken first, then the group is filled in rank order."""
    size = _group_size(params)
    cap = params.get("max_groups_per_inspector")
    _check_cap(cap)
    required = _required_departments(params, size)
    if not isinstance(targets, list) or not all(_is_id(t) for t in targets):
        raise ProtocolError("params.targets must be a list of target ids")
    if len(set(targets)) != len(targets):
        raise ProtocolError("a target appears twice in params.targets")
    department = _departments(inspectors)
    blocked = _conflict_pairs(conflicts)
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
    replaced: int | None = None,
    candidates=None,
) -> int:
    """The replacement for the member `replaced` of `group` (by default the member of the
    group that is in `unavailable`): the best-ranked inspector for this target who is not in
    the group, not unavailable, without a conflict with the target and under the load cap.
    Under `one_per_department`, when the replaced member is the group's only one of a listed
    department, the substitute must be of that department: the group keeps a member of every
    listed department. No new randomness, no choice.

    `inspectors` gives the department of every inspector the group may hold; `candidates`
    (ids, by default all of `inspectors`) are the ones ranked: the draw's pool for a
    substitute draw (§12), a supplementary pool for a supplementary draw (§12a)."""
    cap = params.get("max_groups_per_inspector")
    _check_cap(cap)
    blocked = _conflict_pairs(conflicts)
    department = _departments(inspectors)
    required = set(params.get("one_per_department") or [])
    if replaced is None:
        replaced = next((i for i in group if i in unavailable), None)
    needed = department.get(replaced)
    if needed not in required or any(m != replaced and department.get(m) == needed for m in group):
        needed = None
    ranked = department if candidates is None else candidates
    for inspector in inspector_ranking(seed, target, ranked):
        if inspector in group or inspector in unavailable or (inspector, target) in blocked:
            continue
        if cap is not None and load.get(inspector, 0) >= cap:
            continue
        if needed is not None and department[inspector] != needed:
            continue
        return inspector
    if needed is not None:
        raise ProtocolError(
            f"target {target}: no eligible inspector of department {needed} left for a substitute"
        )
    raise ProtocolError(f"target {target}: no eligible inspector left for a substitute")


# --- records ------------------------------------------------------------------------------------

# Not covered by record_hash: the hash itself, the secret and seed (revealed later, so the hash
# is the same before and after publication), the substitutions, which are appended after the
# draw and form their own hash chain starting from record_hash, and the record's place in the
# public draw ledger (`ledger`, `committed_at`, `completed_at`), written around the hash and
# checked against the ledger itself (`python -m app.draws.verify record.json --ledger ...`).
UNHASHED_FIELDS = (
    "record_hash",
    "server_secret",
    "seed",
    "substitutions",
    "ledger",
    "committed_at",
    "completed_at",
)


def record_hash(record: dict, pool_json: bytes | None = None) -> str:
    """SHA-256 of the canonical JSON of the record without UNHASHED_FIELDS; the pool in
    canonical order, like pool_hash. `pool_json` may pass canonical_pool_json(record["pool"])
    when the caller has it already (the application stores exactly those bytes)."""
    if "pool" not in record:
        content = {k: v for k, v in record.items() if k not in UNHASHED_FIELDS}
        return sha256_hex(canonical_json(content))
    before, after = record_hash_parts(record)
    encoded_pool = pool_json if pool_json is not None else canonical_pool_json(record["pool"])
    digest = hashlib.sha256(before)
    digest.update(encoded_pool)
    digest.update(after)
    return digest.hexdigest()


def record_hash_parts(record: dict) -> tuple[bytes, bytes]:
    """The canonical JSON of a record with a pool (without UNHASHED_FIELDS) cut where the
    pool's canonical JSON stands: record_hash = SHA-256(before || canonical_pool_json || after),
    so a (possibly huge) pool can be hashed where it is, e.g. inside a database."""
    content = {k: v for k, v in record.items() if k not in UNHASHED_FIELDS}
    # The pool's place is found with a marker; the bytes around it are those canonical_json
    # gives for the whole object.
    marker = "\u0000pool\u0000"
    content["pool"] = marker
    text = canonical_json(content)
    placeholder = json.dumps(marker, ensure_ascii=False).encode("utf-8")
    if text.count(placeholder) != 1:
        raise ProtocolError("the record contains the pool marker")
    before, _, after = text.partition(placeholder)
    return before, after


def event_hash(event: dict) -> str:
    return sha256_hex(canonical_json({k: v for k, v in event.items() if k != "event_hash"}))


def pool_from_inspectors(inspectors: list[dict]) -> list[dict]:
    """Inspectors enter the pool hash as candidates whose stratum is their department id."""
    department = _departments(inspectors)
    return [{"id": i["id"], "stratum": str(department[i["id"]])} for i in inspectors]


def department_of(stratum) -> int:
    """The department id an inspector pool's stratum names: canonical decimal text only (ASCII
    digits, no sign, no space, no leading zero), so that one pool has one hash. `int()` would
    read "03", "+3", " 3", "٣" and "３" as 3 as well."""
    if type(stratum) is str and stratum.isascii() and stratum.isdigit() and stratum[0] != "0":
        return int(stratum)
    raise ProtocolError(f"department stratum {stratum!r} is not canonical decimal text")


def inspectors_from_pool(pool: list[dict]) -> list[dict]:
    departments: dict[str, int] = {}
    inspectors = []
    for c in pool:
        stratum = c["stratum"]
        if stratum not in departments:
            try:
                departments[stratum] = department_of(stratum)
            except ProtocolError as exc:
                raise ProtocolError(f"candidate {c['id']}: {exc}") from None
        inspectors.append({"id": c["id"], "department": departments[stratum]})
    return inspectors


# --- the form of a record ---------------------------------------------------------------------

_COMMON_MEMBERS = (
    "algorithm",
    "draw_id",
    "kind",
    "task",
    "pool",
    "pool_hash",
    "params",
    "params_hash",
    "commitment",
    "witness_entropy",
    "witnesses",
    "excluded",
    "record_hash",
)
_KIND_MEMBERS = {"target": ("selection",), "inspector": ("groups", "substitutions")}
_EVENT_MEMBERS = ("target", "replaced", "substitute", "reason", "note", "at", "prev_hash")
# A supplementary draw (补充摇号, §12a) is a substitution event with these two members more.
_SUPPLEMENT_MEMBERS = ("pool", "pool_hash")


def _hex64(record: dict, name: str) -> None:
    value = record.get(name)
    if type(value) is not str or not _HEX64.fullmatch(value):
        raise ProtocolError(f"{name} must be 64 lower-case hexadecimal characters")


def _decimal_key(key) -> int:
    if type(key) is str and key.isascii() and key.isdigit() and key[0] != "0":
        return int(key)
    raise ProtocolError(f"groups: key {key!r} is not a target id in canonical decimal text")


def _id_list(value, what: str) -> list[int]:
    if not isinstance(value, list) or not all(_is_id(i) for i in value):
        raise ProtocolError(f"{what} must be a list of positive integer ids")
    return value


def check_params(params, kind: str) -> None:
    """The parameters of a record: `algorithm` and `kind` as the record's, `task` text, every
    member of the kind present with its type; the optional members with theirs. Other members
    are allowed (informational) and covered by params_hash like all others."""
    if not isinstance(params, dict):
        raise ProtocolError("params must be an object")
    if params.get("algorithm") != ALGORITHM:
        raise ProtocolError(f"params.algorithm must be {ALGORITHM}")
    if params.get("kind") != kind:
        raise ProtocolError(f"params.kind is {params.get('kind')!r}, the record's kind is {kind!r}")
    if type(params.get("task")) is not str:
        raise ProtocolError("params.task must be text")
    if kind == "target":
        if "strata" not in params:
            raise ProtocolError("params.strata is missing")
        check_strata(params["strata"], complete=True)
        if "skip_clean_months" in params and not _is_id(params["skip_clean_months"]):
            raise ProtocolError("params.skip_clean_months must be a positive integer")
        if "blacklisted" in params:
            listed = _id_list(params["blacklisted"], "params.blacklisted")
            if listed != sorted(set(listed)):
                raise ProtocolError("params.blacklisted must be sorted ascending, without repeats")
    else:
        for name in ("targets", "group_size", "max_groups_per_inspector", "one_per_department"):
            if name not in params:
                raise ProtocolError(f"params.{name} is missing")
        if "conflicts" not in params:
            raise ProtocolError("params.conflicts is missing ([] when there is none)")
        size = _group_size(params)
        _check_cap(params["max_groups_per_inspector"])
        _required_departments(params, size)
        _id_list(params["targets"], "params.targets")
        if len(set(params["targets"])) != len(params["targets"]):
            raise ProtocolError("a target appears twice in params.targets")
        _conflict_pairs(params["conflicts"])
    if "attempt" in params and not _is_id(params["attempt"]):
        raise ProtocolError("params.attempt must be an integer of at least 1")
    if "previous_draw" in params and params["previous_draw"] is not None:
        if type(params["previous_draw"]) is not str or not params["previous_draw"]:
            raise ProtocolError("params.previous_draw must be a draw id (text) or null")
    if "entropy_source" in params and type(params["entropy_source"]) is not str:
        raise ProtocolError("params.entropy_source must be text")


def check_event(event, n: int) -> None:
    """A substitution event: exactly its eight members, each of its type and form."""
    if not isinstance(event, dict):
        raise ProtocolError(f"substitution {n}: must be an object")
    expected = (*_EVENT_MEMBERS, "event_hash")
    if "pool" in event or "pool_hash" in event:  # a supplementary draw (§12a)
        expected = (*expected, *_SUPPLEMENT_MEMBERS)
    missing = [m for m in expected if m not in event]
    if missing:
        raise ProtocolError(f"substitution {n}: {', '.join(missing)} missing")
    extra = sorted(str(k) for k in event if k not in expected)
    if extra:
        raise ProtocolError(f"substitution {n}: unknown member {', '.join(extra)}")
    for name in ("target", "replaced", "substitute"):
        if not _is_id(event[name]):
            raise ProtocolError(f"substitution {n}: {name} must be a positive integer id")
    if event["reason"] not in SUBSTITUTION_REASONS:
        raise ProtocolError(
            f"substitution {n}: reason {event['reason']!r} is not one of "
            + "、".join(SUBSTITUTION_REASONS)
        )
    if type(event["note"]) is not str:
        raise ProtocolError(f"substitution {n}: note must be text")
    if event["reason"] == "其他" and not event["note"].strip():
        raise ProtocolError(f"substitution {n}: the reason 其他 needs a note")
    if not _valid_at(event["at"]):
        raise ProtocolError(
            f"substitution {n}: at {event['at']!r} is not YYYY-MM-DDTHH:MM:SS "
            "(optionally with a UTC offset ±HH:MM)"
        )
    for name in ("prev_hash", "event_hash", *(("pool_hash",) if "pool" in event else ())):
        try:
            _hex64(event, name)
        except ProtocolError as exc:
            raise ProtocolError(f"substitution {n}: {exc}") from None
    if "pool" in event:
        _check_supplement_pool(event["pool"], n)


def _check_supplement_pool(pool, n: int) -> None:
    """A supplementary pool is an inspector pool written in canonical form (sorted by id,
    only id and stratum): the event hash covers it as it is listed, so it has one listing."""
    if not isinstance(pool, list) or not pool:
        raise ProtocolError(f"substitution {n}: pool must be a non-empty list of inspectors")
    try:
        canonical = canonical_pool(pool)
        inspectors_from_pool(canonical)
    except ProtocolError as exc:
        raise ProtocolError(f"substitution {n}: pool: {exc}") from None
    if canonical != pool:
        raise ProtocolError(f"substitution {n}: pool is not in canonical order (sorted by id)")


def _valid_at(value) -> bool:
    import datetime as dt

    if type(value) is not str or not _AT.fullmatch(value):
        return False
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    offset = moment.utcoffset()
    return offset is None or abs(offset) < dt.timedelta(hours=24)


def check_record(record) -> None:
    """Refuse a record that could be read two ways: every member present with its type and
    form (docs/draw-protocol.md §13 and §16). Raises ProtocolError naming the first problem."""
    if not isinstance(record, dict):
        raise ProtocolError("a record must be a JSON object")
    # No floating point and text keys only, anywhere; the pool (up to a million entries) is
    # checked entry by entry by canonical_pool below, which admits only ints and text.
    _check_json({k: v for k, v in record.items() if k != "pool"})
    kind = record.get("kind")
    if type(kind) is not str or kind not in _KIND_MEMBERS:
        raise ProtocolError(f"kind {kind!r} is neither 'target' nor 'inspector'")
    for name in (*_COMMON_MEMBERS, *_KIND_MEMBERS[kind]):
        if name not in record:
            raise ProtocolError(f"{name} is missing from the record")
    other = "groups" if kind == "target" else "selection"
    for name in (other, *(("substitutions",) if kind == "target" else ())):
        if name in record:
            raise ProtocolError(f"a {kind} record has no {name}")
    for name in ("pool_hash", "params_hash", "commitment", "record_hash", "server_secret"):
        _hex64(record, name)
    if "seed" in record:
        _hex64(record, "seed")
    draw_id = record["draw_id"]
    if type(draw_id) is not str or not draw_id or SEP in draw_id:
        raise ProtocolError("draw_id must be non-empty text without U+001F")
    if type(record["task"]) is not str:
        raise ProtocolError("task must be text")
    if type(record["witnesses"]) is not str:
        raise ProtocolError('witnesses must be text ("" when there are none)')
    entropy = record["witness_entropy"]
    if type(entropy) is not str:
        raise ProtocolError('witness_entropy must be text ("" when there is none), not null')
    if normalise_witness_entropy(entropy) != entropy:
        raise ProtocolError("witness_entropy is not in normal form (NFC, white space collapsed)")
    check_params(record["params"], kind)
    if record["params"]["task"] != record["task"]:
        raise ProtocolError("task differs from params.task")
    if not isinstance(record["pool"], list):
        raise ProtocolError("pool must be a list")
    pool = canonical_pool(record["pool"])
    if kind == "inspector":
        inspectors_from_pool(pool)
    excluded = record["excluded"]
    if not isinstance(excluded, list):
        raise ProtocolError("excluded must be a list")
    ids = {c["id"] for c in pool}
    for entry in excluded:
        if not (
            isinstance(entry, dict)
            and set(entry) == {"id", "reason"}
            and _is_id(entry["id"])
            and type(entry["reason"]) is str
            and entry["reason"]
        ):
            raise ProtocolError(f'excluded: {entry!r} is not {{"id": id, "reason": text}}')
        if entry["id"] in ids:
            raise ProtocolError(f"candidate {entry['id']} is both in the pool and excluded")
    if kind == "target":
        selection = record["selection"]
        if not isinstance(selection, dict):
            raise ProtocolError("selection must be an object")
        for stratum, chosen in selection.items():
            _id_list(chosen, f"selection {stratum}")
    else:
        groups = record["groups"]
        if not isinstance(groups, dict):
            raise ProtocolError("groups must be an object")
        for key, group in groups.items():
            _decimal_key(key)
            _id_list(group, f"group of target {key}")
        events = record["substitutions"]
        if not isinstance(events, list):
            raise ProtocolError("substitutions must be a list ([] when there is none)")
        for n, event in enumerate(events, start=1):
            check_event(event, n)


# --- replay and verification --------------------------------------------------------------------


class ChainState:
    """The state after a record's substitution events (§12): current groups, load per
    inspector, the inspectors replaced per target, and the department of every inspector the
    chain has named (the draw's pool and every supplementary pool)."""

    def __init__(self, record: dict):
        self.pool_inspectors = inspectors_from_pool(record["pool"])
        self.department = {i["id"]: i["department"] for i in self.pool_inspectors}
        self.groups = {int(t): list(g) for t, g in record["groups"].items()}
        self.load: dict[int, int] = {}
        for group in self.groups.values():
            for inspector in group:
                self.load[inspector] = self.load.get(inspector, 0) + 1
        self.unavailable: dict[int, set[int]] = {}
        self.prev = record.get("record_hash")
        self.n = 0

    def known(self, extra: list[dict] = ()) -> list[dict]:
        department = {**self.department, **{i["id"]: i["department"] for i in extra}}
        return [{"id": i, "department": d} for i, d in department.items()]

    def next_substitute(self, seed, target, unavailable, params, replaced, extra=()):
        """The §12 substitute from the draw's own pool (`extra`: departments to know)."""
        return substitute(
            seed,
            target,
            self.groups[target],
            self.known(extra),
            params.get("conflicts") or [],
            unavailable,
            params,
            self.load,
            replaced=replaced,
            candidates=[i["id"] for i in self.pool_inspectors],
        )

    def supplementary_substitute(self, seed, n, target, unavailable, params, replaced, pool):
        """The §12a substitute: ranked with the supplementary seed over `pool` (canonical)."""
        inspectors = inspectors_from_pool(pool)
        digest = pool_hash(pool)
        return substitute(
            supplement_seed(seed, n, target, digest, self.prev),
            target,
            self.groups[target],
            self.known(inspectors),
            params.get("conflicts") or [],
            unavailable,
            params,
            self.load,
            replaced=replaced,
            candidates=[i["id"] for i in inspectors],
        )

    def apply(self, event: dict) -> None:
        target, replaced, chosen = event["target"], event["replaced"], event["substitute"]
        if "pool" in event:
            for inspector in inspectors_from_pool(event["pool"]):
                self.department.setdefault(inspector["id"], inspector["department"])
        group = self.groups[target]
        group[group.index(replaced)] = chosen
        self.load[replaced] -= 1
        self.load[chosen] = self.load.get(chosen, 0) + 1
        self.prev = event.get("event_hash")


def replay_state(record: dict, seed: bytes) -> tuple[ChainState, list[str]]:
    """Apply the record's substitutions to its groups in order, checking each against the
    protocol; returns the state after them and the differences found. After a wrong substitute
    the replay goes on with the RECORDED value: each later event is judged against the state
    the record describes, so every wrong event is reported once."""
    params = record["params"]
    state = ChainState(record)
    problems = []
    for n, event in enumerate(record.get("substitutions") or [], start=1):
        state.n = n
        target, replaced = event["target"], event["replaced"]
        if event.get("prev_hash") != state.prev:
            problems.append(f"substitution {n}: prev_hash does not link to the previous entry")
        if event_hash(event) != event.get("event_hash"):
            problems.append(f"substitution {n}: event_hash does not match its content")
        group = state.groups.get(target)
        if group is None or replaced not in group:
            problems.append(
                f"substitution {n}: inspector {replaced} is not in the group of target {target}"
            )
            state.prev = event.get("event_hash")
            continue
        unavailable = state.unavailable.setdefault(target, set())
        unavailable.add(replaced)
        expected = None
        try:
            if "pool" in event:
                problems.extend(_supplement_problems(state, seed, n, event, params))
                expected = state.supplementary_substitute(
                    seed, n, target, unavailable, params, replaced, event["pool"]
                )
            else:
                expected = state.next_substitute(seed, target, unavailable, params, replaced)
        except ProtocolError as exc:
            problems.append(f"substitution {n}: {exc}")
        if expected is not None and expected != event["substitute"]:
            problems.append(
                f"substitution {n}: substitute should be inspector {expected}, "
                f"the record says {event['substitute']}"
            )
        state.apply(event)
    return state, problems


def _supplement_problems(state, seed, n, event, params) -> list[str]:
    """A supplementary draw is allowed only when the draw's own ranking is used up (§12a)."""
    problems = []
    if pool_hash(event["pool"]) != event["pool_hash"]:
        problems.append(f"substitution {n}: pool_hash does not match its pool")
    try:
        still = state.next_substitute(
            seed,
            event["target"],
            state.unavailable[event["target"]],
            params,
            event["replaced"],
            inspectors_from_pool(event["pool"]),
        )
    except ProtocolError:
        return problems
    problems.append(
        f"substitution {n}: a supplementary draw while the draw's own ranking still had "
        f"inspector {still}"
    )
    return problems


def replay_substitutions(record: dict, seed: bytes) -> tuple[dict[int, list[int]], list[str]]:
    """replay_state's final groups and the differences found."""
    state, problems = replay_state(record, seed)
    return state.groups, problems


def verify(record: dict) -> list[str]:
    """Recompute every hash and the selection of a published record. Returns what differs
    (empty when the record is VALID). A record of the wrong form (check_record) gets one
    message and nothing is recomputed."""
    if not isinstance(record, dict):
        return ["the record is malformed: a record must be a JSON object"]
    if record.get("algorithm") != ALGORITHM:
        return [f"algorithm is {record.get('algorithm')!r}, this verifier knows {ALGORITHM}"]
    if not record.get("server_secret"):
        return ["server_secret is not in the record: it is revealed when the results are published"]
    try:
        check_record(record)
    except ProtocolError as exc:
        return [f"the record is malformed: {exc}"]
    except (KeyError, TypeError, ValueError) as exc:  # e.g. a list where a stratum belongs
        return [f"the record is malformed: {exc!r}"]
    problems: list[str] = []
    try:
        secret = bytes.fromhex(record["server_secret"])
        if commitment(secret) != record["commitment"]:
            problems.append("commitment: SHA-256('dsr-commit' || server_secret) does not match")
        pool = canonical_pool(record["pool"])
        if pool_hash(pool) != record["pool_hash"]:
            problems.append("pool_hash: the pool does not hash to the recorded value")
        if params_hash(record["params"]) != record["params_hash"]:
            problems.append("params_hash: the parameters do not hash to the recorded value")
        if record_hash(record) != record["record_hash"]:
            problems.append("record_hash: the record's content does not hash to the recorded value")
        seed = derive_seed(
            secret,
            record["draw_id"],
            record["pool_hash"],
            record["params_hash"],
            record["witness_entropy"],
        )
        if "seed" in record and record["seed"] != seed.hex():
            problems.append("seed: the recorded seed differs from the one derived")
        params = record["params"]
        if record["kind"] == "target":
            expected = draw_targets(pool, params, seed)
            recorded = record["selection"]
            for stratum in sorted(set(expected) | set(recorded)):
                if expected.get(stratum, []) != recorded.get(stratum, []):
                    problems.append(
                        f"selection {stratum}: expected {expected.get(stratum, [])}, "
                        f"the record says {recorded.get(stratum, [])}"
                    )
        else:
            expected = draw_inspectors(
                params["targets"], inspectors_from_pool(pool), params["conflicts"], params, seed
            )
            recorded = {int(t): list(g) for t, g in record["groups"].items()}
            for target in sorted(set(expected) | set(recorded)):
                if expected.get(target) != recorded.get(target):
                    problems.append(
                        f"group of target {target}: expected {expected.get(target)}, "
                        f"the record says {recorded.get(target)}"
                    )
            problems.extend(replay_substitutions(record, seed)[1])
    except ProtocolError as exc:
        problems.append(f"the draw cannot be recomputed: {exc}")
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"the record is malformed: {exc!r}")
    return problems
