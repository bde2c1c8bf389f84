"""Probabilistic matching with Splink, split by job as Splink's own Linker is.

* :mod:`dedupe.matching.model` — the comparisons and blocking rules (the model's shape).
* :mod:`dedupe.matching.training` — estimating parameters; run rarely, writes a model file.
* :mod:`dedupe.matching.inference` — scoring and clustering with a stored model; nightly.
"""
