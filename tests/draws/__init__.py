"""Tests of the draw protocol dsr-sha256-v1 (app/draws/protocol.py) and its known-answer vectors."""
