"""Benchmarks run by the Makefile's ``bench-*`` targets; they print figures, not pass/fail."""
