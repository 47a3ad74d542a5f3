"""Verify a published draw record: `python -m app.draws.verify record.json`.

Needs nothing but Python's standard library: prints VALID and exits 0, or prints what differs
and exits 1."""

from __future__ import annotations

import json
import sys

from app.draws.protocol import verify


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m app.draws.verify record.json", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"cannot read {argv[0]}: {exc}", file=sys.stderr)
        return 1
    problems = verify(record)
    if not problems:
        print("VALID")
        return 0
    print("INVALID")
    for problem in problems:
        print(f"- {problem}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
