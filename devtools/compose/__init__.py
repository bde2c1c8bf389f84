"""The production stack run for real here: ``make compose-test`` (compose_test.py)."""
