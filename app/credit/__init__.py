"""Dishonesty blacklist workflow and credit records (R12)."""
