"""The public draw ledger (摇号公示台账) as a stranger checks it: standard library only.

An entry is a JSON object with at least `seq`, `at`, `event`, `draw_uid`, `prev_hash` and
`hash`, plus the fields of its event (docs/draw-protocol.md §17):

    hash = SHA-256 hex of canonical_json(entry without "hash")

canonical JSON as in the protocol (keys sorted, separators "," and ":", non-ASCII kept, no
floating point). The first entry has seq 1 and prev_hash = 64 zeros; each next entry has
seq + 1 and prev_hash = the hash of the one before. `check_chain` walks a ledger export
(`/public/draws/ledger.json`) and `check_record` compares a draw record with it (§18).
"""

from __future__ import annotations

import hashlib
import hmac
import json

GENESIS_HASH = "0" * 64
NO_ENTROPY = "无外部随机源"
SUPPLEMENT_EVENT = "supplement"
# Record fields that hold the ledger's view of the record: not covered by record_hash.
LEDGER_RECORD_FIELDS = ("ledger", "committed_at", "completed_at")


def canonical_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def event_seal(server_secret_hex: str, event_hash_hex: str) -> str:
    """What a `substitute` entry publishes of a substitution event before the results are:
    hex(HMAC-SHA256(key = the draw's secret s, msg = the 32 bytes of its event_hash)). The
    event hash alone could be found by trying the few possible events (a drawn target, two
    inspectors, a reason, a second); the seal cannot be computed, or tried, without s, which
    is revealed with the results, and it binds the event just as well."""
    return hmac.new(
        bytes.fromhex(server_secret_hex), bytes.fromhex(event_hash_hex), hashlib.sha256
    ).hexdigest()


def entry_hash(entry: dict) -> str:
    return hashlib.sha256(
        canonical_json({k: v for k, v in entry.items() if k != "hash"})
    ).hexdigest()


def check_chain(entries: list[dict], head: dict | None = None) -> list[str]:
    """What is wrong with the chain (empty when every entry links to the one before and hashes
    to its `hash`). `entries` must be the whole ledger from seq 1, in any order."""
    problems: list[str] = []
    prev, expected = GENESIS_HASH, 1
    for entry in sorted(entries, key=lambda e: e.get("seq", 0) if isinstance(e, dict) else 0):
        if not isinstance(entry, dict):
            return ["ledger: an entry is not a JSON object"]
        seq = entry.get("seq")
        if seq != expected:
            problems.append(f"ledger: entry {expected} is missing (next is {seq})")
            return problems
        if entry.get("prev_hash") != prev:
            problems.append(f"ledger entry {seq}: prev_hash does not link to entry {seq - 1}")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"ledger entry {seq}: its content does not hash to its hash")
        prev, expected = entry.get("hash"), expected + 1
    if head is not None and (head.get("seq"), head.get("hash")) != (expected - 1, prev):
        problems.append("ledger: the head does not match the last entry")
    return problems


def check_record(record: dict, entries: list[dict]) -> list[str]:
    """Compare a draw record with the ledger: one `commit` entry of its draw id that matches
    the record's commitment, hashes, pool size and parameters; an `entropy` entry after it with
    the record's entropy; a `complete` entry after that with its record_hash; one `substitute`
    entry per substitution, in order, with its event_hash; no `cancel` entry."""
    problems: list[str] = []
    uid = record.get("draw_id")
    mine = sorted(
        (e for e in entries if isinstance(e, dict) and e.get("draw_uid") == uid),
        key=lambda e: e.get("seq", 0),
    )
    by_event: dict[str, list[dict]] = {}
    for entry in mine:
        by_event.setdefault(entry.get("event"), []).append(entry)
    commits = by_event.get("commit", [])
    if len(commits) != 1:
        return [f"ledger: {len(commits)} commit entries for draw {uid} (exactly one expected)"]
    commit = commits[0]
    params = record.get("params") or {}
    expected = {
        "task": record.get("task"),
        "kind": record.get("kind"),
        "commitment": record.get("commitment"),
        "pool_hash": record.get("pool_hash"),
        "params_hash": record.get("params_hash"),
        "attempt": params.get("attempt", 1),
        "entropy_source": params.get("entropy_source"),
    }
    if isinstance(record.get("pool"), list):
        expected["pool_size"] = len(record["pool"])
    for name, value in expected.items():
        if commit.get(name) != value:
            problems.append(
                f"ledger commit entry {commit.get('seq')}: {name} is {commit.get(name)!r}, "
                f"the record says {value!r}"
            )
    if by_event.get("cancel"):
        problems.append(f"ledger: draw {uid} was cancelled (entry {by_event['cancel'][0]['seq']})")
    entropy = by_event.get("entropy", [])
    complete = by_event.get("complete", [])
    if len(entropy) != 1:
        problems.append(f"ledger: {len(entropy)} entropy entries for draw {uid}")
    else:
        if entropy[0]["seq"] <= commit["seq"]:
            problems.append("ledger: the entropy entry does not come after the commit entry")
        if entropy[0].get("entropy") != (record.get("witness_entropy") or ""):
            problems.append("ledger entropy entry: the entropy differs from the record's")
    if len(complete) != 1:
        problems.append(f"ledger: {len(complete)} complete entries for draw {uid}")
    else:
        if entropy and complete[0]["seq"] <= entropy[0]["seq"]:
            problems.append("ledger: the complete entry does not come after the entropy entry")
        if complete[0].get("record_hash") != record.get("record_hash"):
            problems.append("ledger complete entry: record_hash differs from the record's")
    secret = record.get("server_secret")
    events = record.get("substitutions") or []
    try:
        recorded = [(_ledger_event(s), event_seal(secret, s.get("event_hash"))) for s in events]
    except (AttributeError, TypeError, ValueError):  # no secret yet, or not hex: no match
        recorded = [None for _ in events]
    # Substitute draws and supplementary draws (补充摇号) form one chain, in ledger order.
    listed = [
        (e.get("event"), e.get("event_seal"))
        for e in mine
        if e.get("event") in ("substitute", SUPPLEMENT_EVENT)
    ]
    if recorded != listed:
        problems.append(
            f"ledger: {len(listed)} substitutions in the ledger, {len(recorded)} in the record "
            "(or their hashes differ)"
        )
    claimed = record.get("ledger")
    if isinstance(claimed, dict):
        for name, found in (("commit", commit), ("complete", complete[0] if complete else None)):
            mine_claim = claimed.get(name) or {}
            if found is None or (mine_claim.get("seq"), mine_claim.get("hash")) != (
                found.get("seq"),
                found.get("hash"),
            ):
                problems.append(f"record.ledger.{name} does not name the ledger's {name} entry")
    return problems


def _ledger_event(substitution: dict) -> str:
    """The ledger event of a substitution: `supplement` for a supplementary draw (it carries
    its own pool, docs/draw-protocol.md §12a), `substitute` otherwise."""
    return SUPPLEMENT_EVENT if "pool" in substitution else "substitute"


def without_ledger_fields(record: dict) -> dict:
    """The record as record_hash covers it (the ledger's times and positions are added to the
    record after its hash is fixed)."""
    return {k: v for k, v in record.items() if k not in LEDGER_RECORD_FIELDS}
