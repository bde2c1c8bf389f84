"""Tools for developing and measuring the pipeline, never imported by the runtime:
the sample council generator, the benchmarks and test helpers."""
