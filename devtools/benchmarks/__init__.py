"""Benchmarks: accuracy on data nobody here wrote (FEBRL) and on the synthetic council,
and speed and memory at a million records. Run by ``make bench-accuracy`` and ``make bench``.
"""
