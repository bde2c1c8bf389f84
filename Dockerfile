# One image for every Airflow service and the sample sources, built from the lock file.
# BASE_IMAGE: any Debian bookworm with Python 3.11 and pip (make compose-test builds one
# from Debian's packages where no image registry is reachable).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# Java for PySpark: a task is the Spark driver when GOLDEN_RECORD_BACKEND=spark.
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==0.13.8"
# No download cache kept in the image (it was 2.7 GB of a 4.97 GB image).
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH \
    GX_ANALYTICS_ENABLED=false

WORKDIR /opt/golden-record
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
# The core with its Airflow side (the plugin registers itself through its entry point),
# Spark, and the sample council's generator (the group "sample") for the sample sources.
RUN uv sync --frozen --no-dev --group sample --extra airflow --extra spark --no-install-project
COPY src ./src
COPY devtools ./devtools
RUN uv sync --frozen --no-dev --group sample --extra airflow --extra spark

# Every folder a named volume mounts for the runtime user: Docker makes a new volume
# with the ownership the image gives its folder (a root-owned /sources refused the
# sample's writes).
RUN useradd --create-home --uid 50000 airflow \
    && mkdir -p /opt/airflow /opt/airflow/logs /data /sources \
    && chown -R airflow /opt/airflow /opt/airflow/logs /data /sources
USER airflow
ENV AIRFLOW_HOME=/opt/airflow
