#!/bin/sh
# First start: a cluster owned by POSTGRES_USER (password POSTGRES_PASSWORD, required
# over TCP) holding the database POSTGRES_DB; then the server on PGPORT.
set -eu
port="${PGPORT:-5432}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password_file="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > "$password_file"
    initdb -D "$PGDATA" -U "${POSTGRES_USER:?POSTGRES_USER is required}" \
        --pwfile="$password_file" --auth-host=scram-sha-256 --auth-local=trust >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-p $port -c listen_addresses=''" -w start >/dev/null
    database="${POSTGRES_DB:-$POSTGRES_USER}"
    if [ "$database" != "postgres" ]; then
        createdb -p "$port" -U "$POSTGRES_USER" -O "$POSTGRES_USER" "$database"
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -p "$port" -c listen_addresses="${POSTGRES_LISTEN:-*}"
