/**
 * export-flows against a plain COPY (SPEC §9, §7): N pending flag changes (default 1,000,000: one
 * transition each for N meter points, 60% electricity over the 14 DNOs, 40% gas over 4
 * transporters), then in the same run:
 *  1. the ceiling: `COPY (SELECT mpxn, to_flag, effective_at FROM service_flag_transition) TO`
 *     a file — the same rows, no logic, no state;
 *  2. `export-flows` as the CLI runs it: settled horizon, latest flag per MPxN, comparison with the
 *     last flag sent, the prepared files and records stored, every file written atomically (fsync,
 *     rename) and recorded as sent.
 * Prints records/s of both and their ratio.
 *
 * Runs under `npm run bench -- exportFlows`, or alone: `node dist/bench/exportFlows.bench.js`
 * (DATABASE_URL: a database to migrate and fill — use a scratch one; unset: an embedded
 * PostgreSQL in a temporary directory). BENCH_EXPORT_CHANGES sets N.
 */
import "reflect-metadata";
import { createWriteStream, mkdtempSync, readdirSync, rmSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { exportFlows } from "../src/flows/exportFlows";
import { createDataSource, migrate } from "../src/persistence/dataSource";
import { startEmbeddedPostgres } from "../src/persistence/embeddedPostgres";
import { FlowStore } from "../src/persistence/flowStore";
import { type BenchEnv } from "./run";
import { DISTRIBUTOR_MPAS_IDS } from "../src/domain/identifiers";
import { GAS_TRANSPORTERS } from "../src/ingest/seed";

const MPAS = Object.values(DISTRIBUTOR_MPAS_IDS);
const TRANSPORTERS = GAS_TRANSPORTERS;

/** N transitions null → A (or I, one in five), one per meter point, straight into the table. */
async function fillPendingChanges(c: Client, n: number): Promise<void> {
  await c.query(
    `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
       contributing_device_ids, effective_at, cause_event_id)
     SELECT nextval('service_flag_transition_sequence_seq'),
            CASE WHEN i % 5 < 3 THEN (10 + i % 14)::text || lpad(i::text, 11, '0') ELSE '7' || lpad(i::text, 9, '0') END,
            CASE WHEN i % 5 < 3 THEN 'ELECTRICITY' ELSE 'GAS' END,
            CASE WHEN i % 5 < 3 THEN ($2::text[])[1 + i % 14] ELSE ($3::text[])[1 + i % 4] END,
            'EDFE', NULL,
            CASE WHEN i % 5 = 4 THEN 'I' ELSE 'A' END,
            CASE WHEN i % 5 = 4 THEN 'ANY_INSTALLED_NOT_COMMISSIONED' ELSE 'ANY_COMMISSIONED' END,
            '{}', timestamptz '2026-03-01 00:00:00+00' + (i % 100000) * interval '1 minute', 'bench-' || i
       FROM generate_series(1, $1::int) i`,
    [n, MPAS, TRANSPORTERS],
  );
  await c.query(`ANALYZE service_flag_transition`);
}

export async function run(env: BenchEnv): Promise<void> {
  const n = Number(process.env.BENCH_EXPORT_CHANGES ?? 1_000_000);
  const c = new Client({ connectionString: env.databaseUrl });
  await c.connect();
  const ds = createDataSource({ url: env.databaseUrl, poolSize: 4, applicationName: "bench-export-flows" });
  await ds.initialize();
  try {
    env.log(`filling ${n.toLocaleString("en-GB")} pending changes`);
    await fillPendingChanges(c, n);

    // 1. The ceiling: the same rows, COPY'd out to a file.
    const copyFile = path.join(env.workDir, "copy.tsv");
    let started = process.hrtime.bigint();
    await pipeline(
      c.query(copyTo(`COPY (SELECT mpxn, to_flag, effective_at FROM service_flag_transition) TO STDOUT`)),
      createWriteStream(copyFile),
    );
    const copySecs = Number(process.hrtime.bigint() - started) / 1e9;
    const copyRate = n / copySecs;
    env.result("COPY TO (ceiling)", copyRate, "rows/s");

    // 2. export-flows, the whole two-phase path.
    const outDir = path.join(env.workDir, "out");
    started = process.hrtime.bigint();
    const s = await exportFlows(new FlowStore(ds), { outDir, maxRecords: null, d0350GroupId: "DSF" });
    const exportSecs = Number(process.hrtime.bigint() - started) / 1e9;
    if (s.records !== n) throw new Error(`expected ${n} records exported, got ${s.records}`);
    const rate = s.records / exportSecs;
    env.result("export-flows", rate, "records/s");
    env.result("export-flows files", readdirSync(outDir).length);
    env.result("export-flows / COPY", rate / copyRate, "x");
    env.log(`COPY ${copySecs.toFixed(2)} s, export-flows ${exportSecs.toFixed(2)} s for ${n} changes`);
  } finally {
    await ds.destroy();
    await c.end();
  }
}

/** Alone: DATABASE_URL (migrated here), or an embedded PostgreSQL in a temporary directory. */
async function runAlone(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), "smi-bench-export-"));
  chmodSync(workDir, 0o755);
  let url = process.env.DATABASE_URL;
  const embedded = url
    ? null
    : await startEmbeddedPostgres({
        dataDir: path.join(workDir, "pg"),
        port: 20000 + Math.floor(Math.random() * 20000),
        database: "smi_bench_export",
        ephemeral: true,
      });
  url ??= embedded!.url;
  try {
    const ds = createDataSource({ url, poolSize: 1 });
    await ds.initialize();
    await migrate(ds);
    await ds.destroy();
    await run({
      databaseUrl: url,
      adminUrl: url,
      workDir,
      createDatabase: () => Promise.reject(new Error("expected no extra database in the export benchmark")),
      log: (line) => console.log(`  ${line}`),
      result: (metric, value, unit = "") =>
        console.log(
          `  ${metric}: ${typeof value === "number" ? value.toFixed(value >= 100 ? 0 : 2) : value} ${unit}`,
        ),
    });
  } finally {
    await embedded?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runAlone().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
