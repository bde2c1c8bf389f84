"""The Airflow side of the golden record pipeline (the ``airflow`` extra).

The DAG files in ``dags/`` stay thin: they declare tasks and call :mod:`.stages`, which
reads Airflow connections (:mod:`.connections`) and hands plain settings to
:mod:`golden_record.pipeline`. :mod:`.plugin` is the Airflow plugin (registered through
the ``airflow.plugins`` entry point); its FastAPI app (:mod:`.reports_app`) serves the run
reports, the review pages and the rights pages behind Airflow's sign-in and roles
(:mod:`.permissions`). Nothing outside this package imports Airflow.
"""
