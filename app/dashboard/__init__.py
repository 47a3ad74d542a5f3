"""Statistics and charts (R9.5)."""
