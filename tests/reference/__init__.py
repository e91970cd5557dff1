"""Slow, obviously-correct reference implementation of SPEC.md for differential testing."""
