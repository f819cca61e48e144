#!/usr/bin/env bash
# Entry point of the streaming read replica (compose.yaml: postgres-replica), in front of the
# postgres image's own docker-entrypoint.sh.
#
# On the first start (no data directory yet) it clones the primary with pg_basebackup: through the
# slot `replica_1` and as the role `replicator` (both made by postgres-primary-init.sh; PGPASSWORD
# is that role's password), streaming the WAL written meanwhile (--wal-method=stream), and with
# --write-recovery-conf, which leaves standby.signal and primary_conninfo/primary_slot_name in
# postgresql.auto.conf. The image's entry point then finds an initialised data directory, skips
# its initdb, hands the files to the postgres user (they were written as root) and starts
# PostgreSQL, which comes up as a hot standby and follows the primary from then on.
set -Eeuo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  # Clone beside PGDATA and rename when complete, so that a clone cut short (the container stopped,
  # the primary away) is started again from scratch rather than taken for a data directory. A
  # replica's directory holds nothing that the primary does not, so whatever is there goes.
  partial="$PGDATA.partial"
  rm -rf "$partial"
  mkdir -p "$(dirname "$PGDATA")"
  echo "postgres-replica: cloning the primary into $PGDATA"
  pg_basebackup --host=postgres --port=5432 --username=replicator --no-password \
    --pgdata="$partial" --slot=replica_1 --wal-method=stream --write-recovery-conf \
    --checkpoint=fast
  rm -rf "$PGDATA"
  mv "$partial" "$PGDATA"
fi

exec docker-entrypoint.sh "$@"
