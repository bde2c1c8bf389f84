"""Probabilistic matching with Splink, split by job as Splink's own Linker is.

* :mod:`golden_record.matching.model` — the comparisons and blocking rules (the model's shape).
* :mod:`golden_record.matching.training` — estimating parameters; run rarely, writes a model file.
* :mod:`golden_record.matching.inference` — scoring and clustering with a stored model; nightly.
"""
