import "reflect-metadata";
import { DataSource } from "typeorm";
import {
  PARTITION_SPAN,
  PartitionTransitions1764300000000 as PartitionTransitions,
} from "../../migrations/1764300000000-PartitionTransitions";
import { createDataSource, ensureTransitionPartitions, migrate } from "../../src/persistence/dataSource";
import { MIGRATIONS } from "../../src/persistence/migrations";
import { createTestDatabase } from "../support/harness";
import { createEmptyDatabase, withClient } from "./support";

const PARTITION_MIGRATION = "PartitionTransitions1764300000000";

/** Inserts a transition row by hand, with the given sequence. */
const insertTransition = (seq: string | number, mpxn = "1312345678907") =>
  `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
     contributing_device_ids, effective_at, cause_event_id)
   VALUES (${seq}, '${mpxn}', 'ELECTRICITY', 'MANW', 'EDFE', NULL, 'A', 'ANY_COMMISSIONED',
     ARRAY['BC-33-AC-FF-FE-FA-55-3D'], '2026-03-01T09:00:00Z', 'e${seq}')`;

describe("the partitioned transitions table", () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("is range-partitioned by sequence with the primary key, check, named indexes and every column kept", async () => {
    await withClient(db.url, async (c) => {
      const kind = await c.query(
        `SELECT c.relkind, pg_get_partkeydef(c.oid) AS key FROM pg_class c WHERE c.relname = 'service_flag_transition'`,
      );
      expect(kind.rows).toEqual([{ relkind: "p", key: "RANGE (sequence)" }]);

      const columns = await c.query(
        `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_name = 'service_flag_transition' ORDER BY ordinal_position`,
      );
      expect(columns.rows.map((r: { column_name: string }) => r.column_name)).toEqual([
        "sequence",
        "mpxn",
        "fuel",
        "network_operator",
        "supplier",
        "from_flag",
        "to_flag",
        "rule",
        "contributing_device_ids",
        "effective_at",
        "recorded_at",
        "cause_event_id",
        "tx_id",
      ]);
      expect(columns.rows.find((r: { column_name: string }) => r.column_name === "tx_id")).toEqual({
        column_name: "tx_id",
        data_type: "xid8",
        is_nullable: "NO",
        column_default: "pg_current_xact_id()",
      });

      const constraints = await c.query(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = 'service_flag_transition'::regclass AND contype IN ('p', 'c') ORDER BY conname`,
      );
      expect(constraints.rows).toEqual([
        { conname: "service_flag_transition_change_ck", def: "CHECK ((from_flag IS DISTINCT FROM to_flag))" },
        { conname: "service_flag_transition_pk", def: "PRIMARY KEY (sequence)" },
      ]);

      // PostgreSQL 18 names NOT NULL constraints: the same names as a fresh, unpartitioned install.
      const notNull = await c.query(
        `SELECT conname FROM pg_constraint WHERE conrelid = 'service_flag_transition'::regclass
            AND conname LIKE '%not_null%' AND conname NOT LIKE '%\\_not\\_null'`,
      );
      expect(notNull.rows).toEqual([]);

      const indexes = await c.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'service_flag_transition' ORDER BY indexname`,
      );
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual([
        "service_flag_transition_mpxn_idx",
        "service_flag_transition_network_idx",
        "service_flag_transition_pk",
        "service_flag_transition_supplier_idx",
      ]);
      expect(
        indexes.rows.map((r: { indexdef: string }) => r.indexdef.replace(/^.* USING btree /, "")),
      ).toEqual(["(mpxn, sequence)", "(network_operator, sequence)", "(sequence)", "(supplier, sequence)"]);

      const parts = await c.query(
        `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'service_flag_transition'::regclass ORDER BY c.relname`,
      );
      expect(parts.rows).toEqual([
        { relname: "service_flag_transition_default", bound: "DEFAULT" },
        {
          relname: "service_flag_transition_p00000",
          bound: `FOR VALUES FROM ('0') TO ('${PARTITION_SPAN}')`,
        },
        {
          relname: "service_flag_transition_p00001",
          bound: `FOR VALUES FROM ('${PARTITION_SPAN}') TO ('${2 * PARTITION_SPAN}')`,
        },
        {
          relname: "service_flag_transition_p00002",
          bound: `FOR VALUES FROM ('${2 * PARTITION_SPAN}') TO ('${3 * PARTITION_SPAN}')`,
        },
      ]);
    });
  });

  it("refuses a second row with the same sequence across the whole table", async () => {
    await withClient(db.url, async (c) => {
      await c.query(insertTransition(17));
      await expect(c.query(insertTransition(17, "1234567890"))).rejects.toMatchObject({ code: "23505" });
      await c.query("DELETE FROM service_flag_transition WHERE sequence = 17");
    });
  });

  it("puts a row past the last partition in the default partition, and moves it when partitions are made ahead", async () => {
    const seq = 3 * PARTITION_SPAN + 5;
    const where = () =>
      withClient(db.url, async (c) => {
        const r = await c.query(
          `SELECT tableoid::regclass::text AS part FROM service_flag_transition WHERE sequence = ${seq}`,
        );
        return r.rows.map((x: { part: string }) => x.part);
      });
    await withClient(db.url, async (c) => {
      await c.query(`SELECT setval('service_flag_transition_sequence_seq', ${seq})`);
      await c.query(insertTransition(seq));
    });
    expect(await where()).toEqual(["service_flag_transition_default"]);

    const ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    try {
      // p00003 (holding the row) and two ahead of it.
      expect(await ensureTransitionPartitions(ds)).toBe(3);
      expect(await where()).toEqual(["service_flag_transition_p00003"]);
      expect(await ensureTransitionPartitions(ds)).toBe(0);
    } finally {
      await ds.destroy();
    }
    await withClient(db.url, async (c) => {
      const left = await c.query("SELECT count(*)::int AS n FROM service_flag_transition_default");
      expect(left.rows).toEqual([{ n: 0 }]);
      const parts = await c.query(
        `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'service_flag_transition'::regclass`,
      );
      expect(parts.rows).toEqual([{ n: 7 }]);
    });
  });
});

describe("the partitioning migration", () => {
  it.each([
    ["keeping every value", true],
    ["repairing a development table made before tx_id existed", false],
  ])("moves the rows of an existing transitions table, %s", async (_what, withTxId) => {
    const db = await createEmptyDatabase();
    try {
      // The schema as it was before partitioning, with rows in it.
      const before = MIGRATIONS.filter((m) => m.name !== PartitionTransitions.name);
      const old = new DataSource({
        type: "postgres",
        url: db.url,
        migrations: before,
        migrationsTableName: "typeorm_migrations",
      });
      await old.initialize();
      await old.runMigrations({ transaction: "each" });
      await old.query(
        `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
           contributing_device_ids, effective_at, cause_event_id)
         SELECT nextval('service_flag_transition_sequence_seq'), '1312345678907', 'ELECTRICITY', 'MANW', 'EDFE',
                CASE WHEN g % 2 = 0 THEN 'A' END, CASE WHEN g % 2 = 0 THEN 'N' ELSE 'A' END, 'ANY_COMMISSIONED',
                ARRAY['D' || g], timestamptz '2026-03-01T09:00:00Z' + g * interval '1 minute', 'e' || g
           FROM generate_series(1, 50) g`,
      );
      if (!withTxId) await old.query("ALTER TABLE service_flag_transition DROP COLUMN tx_id");
      const snapshot = `SELECT sequence::text, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
                               contributing_device_ids, effective_at, recorded_at, cause_event_id
                               ${withTxId ? ", tx_id::text" : ""}
                          FROM service_flag_transition ORDER BY sequence`;
      const rowsBefore: unknown[] = await old.query(snapshot);
      await old.destroy();

      const ds = createDataSource({ url: db.url, poolSize: 2 });
      await ds.initialize();
      try {
        expect(await migrate(ds)).toEqual([PARTITION_MIGRATION]);
        expect(await ds.query(snapshot)).toEqual(rowsBefore);
        const txIds: { missing: number }[] = await ds.query(
          "SELECT count(*) FILTER (WHERE tx_id IS NULL)::int AS missing FROM service_flag_transition",
        );
        expect(txIds).toEqual([{ missing: 0 }]);
        const where: { part: string; n: number }[] = await ds.query(
          `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM service_flag_transition GROUP BY 1`,
        );
        expect(where).toEqual([{ part: "service_flag_transition_p00000", n: 50 }]);
        expect(await ds.query(`SELECT to_regclass('service_flag_transition_unpartitioned') AS t`)).toEqual([
          { t: null },
        ]);
        // The sequence carries on after the moved rows.
        expect(await ds.query(`SELECT nextval('service_flag_transition_sequence_seq')::int AS n`)).toEqual([
          { n: 51 },
        ]);
      } finally {
        await ds.destroy();
      }
    } finally {
      await db.drop();
    }
  });

  it("runs once when two instances migrate the same empty database at the same time", async () => {
    const db = await createEmptyDatabase();
    const a = createDataSource({ url: db.url, poolSize: 1 });
    const b = createDataSource({ url: db.url, poolSize: 1 });
    await Promise.all([a.initialize(), b.initialize()]);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const all = MIGRATIONS.map((m) => new m().name);
      expect([ra, rb].sort((x, y) => y.length - x.length)).toEqual([all, []]);
      const recorded: { name: string }[] = await a.query("SELECT name FROM typeorm_migrations ORDER BY id");
      expect(recorded.map((r) => r.name)).toEqual(all);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
      await db.drop();
    }
  });
});
