"""Golden customer records for UK councils: standardising, matching and golden records.

The public entry points are the `golden-record` CLI (:mod:`golden_record.cli`) and the stage
functions in :mod:`golden_record.pipeline`, which the Airflow DAGs call.
"""

__version__ = "0.1.0"
