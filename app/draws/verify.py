"""Verify a published draw record:
`python -m app.draws.verify record.json [--ledger ledger.json]`.

Needs nothing but Python's standard library. Without --ledger it recomputes the record's own
hashes and selection: that proves the record agrees with itself, not that it is the record
that was announced. With --ledger (the file /public/draws/ledger.json gives) it also checks
that the ledger's chain is unbroken and that the record matches the entries announced for its
draw id, the commitment before the entropy (docs/draw-protocol.md §18). Prints VALID and exits
0, or prints what differs and exits 1."""

from __future__ import annotations

import json
import sys

from app.draws.ledger_chain import check_chain, check_record, without_ledger_fields
from app.draws.protocol import verify

USAGE = "usage: python -m app.draws.verify record.json [--ledger ledger.json]"


def _load(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ledger_path = None
    if "--ledger" in argv:
        at = argv.index("--ledger")
        if at + 1 >= len(argv):
            print(USAGE, file=sys.stderr)
            return 2
        ledger_path = argv[at + 1]
        del argv[at : at + 2]
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        record = _load(argv[0])
        ledger = _load(ledger_path) if ledger_path else None
    except (OSError, ValueError) as exc:
        print(f"cannot read the file: {exc}", file=sys.stderr)
        return 1
    if not isinstance(record, dict):
        print("INVALID\n- the record is not a JSON object")
        return 1
    problems = verify(without_ledger_fields(record))
    if ledger is not None:
        entries = ledger.get("entries") if isinstance(ledger, dict) else None
        if not isinstance(entries, list):
            problems.append("the ledger file has no list of entries")
        else:
            problems += check_chain(entries, ledger.get("head"))
            problems += check_record(record, entries)
    if problems:
        print("INVALID")
        for problem in problems:
            print(f"- {problem}")
        return 1
    print("VALID")
    if ledger is None:
        print(
            "(checked the record's own consistency only: give --ledger ledger.json, from "
            "/public/draws/ledger.json, to check it against the public draw ledger)"
        )
    else:
        print(f"(and against the public draw ledger: {len(entries)} entries, chain unbroken)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
