"""Benchmarks: they print their figures; nothing here is a timed test."""
