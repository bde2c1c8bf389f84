# A PostgreSQL server image from Debian's packages, for `make compose-test` where no image
# registry is reachable: the official image's POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB on first start, its data folder, and PGPORT for the port (under host
# networking each server needs one of its own). Debian bookworm's PostgreSQL is 15.
ARG BASE_IMAGE=golden-record-base/python:3.11-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint.sh"]
