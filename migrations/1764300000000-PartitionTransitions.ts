import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Range-partitions `service_flag_transition` by `sequence`, so that the table stays fast as it grows
 * to billions of rows (SPEC §9; docs/scaling.md, "Partitions").
 *
 * Reviewed by hand. Notes for reviewers:
 * - Why by `sequence`: it is the primary key, the cursor of every feed query (`sequence > $after`)
 *   and strictly increasing, so new rows always land in the newest partition, the hot set of
 *   indexes stays small, the feed's range scans prune to the last partitions, and old partitions
 *   are never written again (they vacuum once, and can be detached and archived whole). The
 *   per-meter-point and per-tenant look-ups (`mpxn`, `network_operator`, `supplier`, each with
 *   `sequence`) use the same named indexes, now partitioned: PostgreSQL keeps one per partition
 *   and, because partitions are in sequence order, reads them in order and stops at the LIMIT.
 * - Everything of the old table is kept: every column in the same order, `tx_id xid8 DEFAULT
 *   pg_current_xact_id()`, `recorded_at DEFAULT now()`, the check constraint, the primary key on
 *   `sequence` (allowed on a partitioned table because it contains the partition key) and the
 *   three named indexes. The rows are moved in this migration's transaction.
 * - Partitions hold `PARTITION_SPAN` sequences each (100 million) and are named by their
 *   ordinal, `service_flag_transition_p00000` = [0, 1e8). `smi_ensure_transition_partitions(ahead)`
 *   creates the partition holding the sequence's current value and `ahead` more; `migrate` and every
 *   server start call it. A row beyond the last partition goes to `service_flag_transition_default`
 *   instead of failing; the next call of the function moves such rows into their new partition.
 *   So a missed call costs speed, never a write.
 * - The function serialises concurrent callers (two instances starting) with a transaction-scoped
 *   advisory lock. Creating a partition takes a short ACCESS EXCLUSIVE lock on the parent: that is
 *   why partitions are made ahead, at start-up, not when the first row needs one.
 * - The sequence `service_flag_transition_sequence_seq` is not owned by the table and is untouched.
 */
export const PARTITION_SPAN = 100_000_000;

/** The transitions table as the inventory migration made it (columns, defaults, named constraints). */
const TABLE_DDL = `
      CREATE TABLE service_flag_transition (
        sequence bigint NOT NULL,
        mpxn text NOT NULL,
        fuel text NOT NULL,
        network_operator text,
        supplier text,
        from_flag char(1),
        to_flag char(1),
        rule text NOT NULL,
        contributing_device_ids text[] NOT NULL,
        effective_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        cause_event_id text NOT NULL,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT service_flag_transition_pk PRIMARY KEY (sequence),
        CONSTRAINT service_flag_transition_change_ck CHECK (from_flag IS DISTINCT FROM to_flag)
      )`;

const INDEXES = [
  `CREATE INDEX service_flag_transition_mpxn_idx ON service_flag_transition (mpxn, sequence)`,
  `CREATE INDEX service_flag_transition_network_idx ON service_flag_transition (network_operator, sequence)`,
  `CREATE INDEX service_flag_transition_supplier_idx ON service_flag_transition (supplier, sequence)`,
];

/** Renames the table, its constraints and indexes out of the way (their names are schema-wide). */
async function renameAside(q: QueryRunner, table: string, prefix: string): Promise<void> {
  await q.query(`ALTER TABLE service_flag_transition RENAME TO ${table}`);
  for (const ck of ["pk", "change_ck"]) {
    await q.query(
      `ALTER TABLE ${table} RENAME CONSTRAINT service_flag_transition_${ck} TO service_flag_transition_${prefix}_${ck}`,
    );
  }
  for (const ix of ["mpxn", "network", "supplier"]) {
    await q.query(
      `ALTER INDEX service_flag_transition_${ix}_idx RENAME TO service_flag_transition_${prefix}_${ix}_idx`,
    );
  }
}

async function createIndexes(q: QueryRunner): Promise<void> {
  for (const ix of INDEXES) await q.query(ix);
}

export class PartitionTransitions1764300000000 implements MigrationInterface {
  name = "PartitionTransitions1764300000000";

  async up(q: QueryRunner): Promise<void> {
    // Free the names the new table takes (index and constraint names are schema-wide).
    await renameAside(q, "service_flag_transition_unpartitioned", "old");

    await q.query(`${TABLE_DDL} PARTITION BY RANGE (sequence)`);
    await createIndexes(q);
    await q.query(
      `CREATE TABLE service_flag_transition_default PARTITION OF service_flag_transition DEFAULT`,
    );

    await q.query(`
      CREATE FUNCTION smi_ensure_transition_partitions(ahead integer DEFAULT 2) RETURNS integer
      LANGUAGE plpgsql AS $fn$
      DECLARE
        span constant bigint := ${PARTITION_SPAN};
        current_value bigint;
        first_ordinal bigint;
        ordinal bigint;
        lo bigint;
        hi bigint;
        part text;
        created integer := 0;
      BEGIN
        IF ahead < 0 THEN
          RAISE EXCEPTION 'expected ahead >= 0, got %', ahead;
        END IF;
        -- One caller at a time (instances starting together); released at commit.
        PERFORM pg_advisory_xact_lock(hashtext('smi_ensure_transition_partitions'));
        SELECT last_value INTO current_value FROM service_flag_transition_sequence_seq;
        first_ordinal := current_value / span;
        -- Rows that went to the default partition belong to partitions from their own ordinal on.
        SELECT LEAST(first_ordinal, COALESCE(min(sequence) / span, first_ordinal))
          INTO first_ordinal FROM service_flag_transition_default;
        FOR ordinal IN first_ordinal .. (current_value / span) + ahead LOOP
          lo := ordinal * span;
          hi := lo + span;
          part := format('service_flag_transition_p%s', lpad(ordinal::text, 5, '0'));
          CONTINUE WHEN to_regclass(part) IS NOT NULL;
          IF EXISTS (SELECT 1 FROM service_flag_transition_default WHERE sequence >= lo AND sequence < hi) THEN
            -- Move the rows that landed in the default partition, then attach (PostgreSQL checks
            -- that the default partition holds no row of the new range).
            EXECUTE format('CREATE TABLE %I (LIKE service_flag_transition INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            EXECUTE format(
              'WITH moved AS (DELETE FROM service_flag_transition_default WHERE sequence >= %s AND sequence < %s RETURNING *)
               INSERT INTO %I SELECT * FROM moved', lo, hi, part);
            EXECUTE format('ALTER TABLE service_flag_transition ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
          ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF service_flag_transition FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
          END IF;
          created := created + 1;
        END LOOP;
        RETURN created;
      END
      $fn$`);

    // Partitions up to the sequence's current value (which no row exceeds) and two more, then
    // move the rows.
    await q.query(`SELECT smi_ensure_transition_partitions(2)`);
    // A development database made before `tx_id` was added to the inventory migration lacks the
    // column: its rows take this transaction's id (they are long settled), and the table is repaired.
    const hasTxId: unknown[] = await q.query(
      `SELECT 1 FROM information_schema.columns
        WHERE table_name = 'service_flag_transition_unpartitioned' AND column_name = 'tx_id'`,
    );
    const txId = hasTxId.length > 0 ? ", tx_id" : "";
    await q.query(`
      INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag,
             rule, contributing_device_ids, effective_at, recorded_at, cause_event_id${txId})
      SELECT sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag,
             rule, contributing_device_ids, effective_at, recorded_at, cause_event_id${txId}
        FROM service_flag_transition_unpartitioned`);
    await q.query(`DROP TABLE service_flag_transition_unpartitioned`);
    // PostgreSQL 18 names NOT NULL constraints; those of the new table got a "1" suffix while the
    // old table held the plain names. Give them the names a fresh install has (no-op before 18).
    await q.query(`
      DO $do$
      DECLARE c record;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint
                  WHERE conrelid = 'service_flag_transition'::regclass AND conname LIKE '%\\_not\\_null1'
        LOOP
          EXECUTE format('ALTER TABLE service_flag_transition RENAME CONSTRAINT %I TO %I',
                         c.conname, left(c.conname, -1));
        END LOOP;
      END
      $do$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await renameAside(q, "service_flag_transition_partitioned", "partitioned");
    await q.query(TABLE_DDL);
    await q.query(`
      INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag,
             rule, contributing_device_ids, effective_at, recorded_at, cause_event_id, tx_id)
      SELECT sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag,
             rule, contributing_device_ids, effective_at, recorded_at, cause_event_id, tx_id
        FROM service_flag_transition_partitioned`);
    await createIndexes(q);
    await q.query(`DROP TABLE service_flag_transition_partitioned`);
    await q.query(`DROP FUNCTION smi_ensure_transition_partitions(integer)`);
  }
}
