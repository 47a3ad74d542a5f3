"""Annual plans, revisions, spot-check tasks, progress statistics (R5, R9)."""
