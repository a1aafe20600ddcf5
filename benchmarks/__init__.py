"""Benchmarks: each module prints its figures next to the baseline it is compared with."""
