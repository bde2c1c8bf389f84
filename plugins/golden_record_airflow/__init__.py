"""Airflow-facing glue for the golden record pipeline.

The DAG files in ``dags/`` stay thin: they declare tasks and call into this package,
which reads Airflow connections and hands plain settings to :mod:`golden_record.pipeline`.
Airflow puts ``plugins/`` on ``sys.path``, so this imports as ``golden_record_airflow``.
"""
