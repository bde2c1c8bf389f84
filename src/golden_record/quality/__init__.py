"""Quality gates: Great Expectations suites run on each night's data, with severity.

A gate validates named batches (a source's raw extract, its canonical records, the golden
records, the run's changes) against the suites in ``expectations/``, builds that run's
Data Docs and says whether any *critical* expectation failed. The pipeline stops before
publishing when one did; warnings are reported only. GX is imported inside
:func:`run_gate`, never when this package is imported.
"""

from golden_record.quality.bands import Bands, load_bands
from golden_record.quality.gates import Batch, GateFailed, GateResult, read_gate_result, run_gate
from golden_record.quality.suites import QualityConfigError

__all__ = [
    "Bands",
    "Batch",
    "GateFailed",
    "GateResult",
    "QualityConfigError",
    "load_bands",
    "read_gate_result",
    "run_gate",
]
