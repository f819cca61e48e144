#!/usr/bin/env bash
# The primary's side of streaming replication (compose.yaml: postgres, postgres-replica). The
# postgres image runs this once, when it initialises an empty data directory
# (/docker-entrypoint-initdb.d), on a server listening on its Unix socket only; an existing volume
# never runs it (see the README's Containers section).
#
# - `replicator`: a role that may only replicate (no database access), with REPLICATION_PASSWORD.
# - `replica_1`: the physical replication slot the replica streams through, so that the primary
#   keeps the WAL the replica has not received yet (bounded by max_slot_wal_keep_size in
#   compose.yaml, so that a replica gone for good cannot fill the primary's disk).
# - pg_hba.conf: replication connections match only lines naming `replication` (the image's
#   `host all all all scram-sha-256` does not cover them).
#
# Executed or sourced by the image's entry point (it sources a script without the execute bit):
# nothing here relies on either.
set -e
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set replication_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SELECT pg_create_physical_replication_slot('replica_1');
SQL
printf 'host replication replicator all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
