"""Inspections: on-site records, evidence, summaries, follow-up supervision, archives (R3, R10, R11)."""
