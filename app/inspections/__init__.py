"""Inspection records, evidence, summaries, approvals, follow-up (R3, R10, R11)."""
