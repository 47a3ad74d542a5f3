"""Verifiable draws of targets and inspectors: protocol.py is pure (R2.2, R7, R8.2)."""
