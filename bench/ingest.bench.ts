/**
 * Bulk ingest against a plain COPY (SPEC §9): N synthetic events (the seed generator's realistic
 * mix) written as an NDJSON file, then
 *  1. the ceiling: the same rows, one column per event field, `COPY`ed into a bare table (no index,
 *     no constraint) from a pre-formatted TSV file;
 *  2. `ingest FILE` as the CLI runs it (streaming, batches of INGEST_BATCH_SIZE, every rule, every
 *     history row, every index), in this process on a fresh database.
 * Prints events/s of both and their ratio (target ≥ 0.3× COPY), and for scale the same COPY into a
 * table whose only index is the primary key on event_id (what idempotency alone costs), and the
 * storage floor: the rows the ingest wrote, COPYed from files into their own tables (what storing
 * them costs, with no rule and no client work; see storageFloor). Then mass
 * events on the loaded inventory: every commissioned meter suspended (a CPL removal) and half of
 * them taken through SMKI Recovery and Recovered, in events/s, with the transitions they recorded
 * (none is allowed).
 */
import { createReadStream, createWriteStream, readFileSync, readdirSync, statSync } from "node:fs";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { openApp } from "../src/app";
import { loadConfig } from "../src/config";
import { ingestStream, openInput } from "../src/ingest/ingestStream";
import { generateSeedEvents } from "../src/ingest/seed";
import { createLogger } from "../src/logger";
import { INSERTED_COLUMNS } from "../src/persistence/inventoryStore";
import { type BenchEnv } from "./run";

const FIELDS = [
  "eventId",
  "occurredAt",
  "type",
  "mpxn",
  "deviceId",
  "supplier",
  "networkOperator",
  "deviceType",
  "smets",
  "manufacturer",
  "model",
  "firmwareVersion",
  "status",
  "role",
] as const;

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  for (const l of lines) if (!out.write(l)) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

/** CPU time of the server's processes named postgres on this machine, in µs (null: none seen). */
function postgresCpuMicros(): number | null {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  let seen = false;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return null; // not Linux
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      seen = true;
    } catch {
      // gone meanwhile
    }
  }
  return seen ? (ticks / ticksPerSecond) * 1e6 : null;
}

/**
 * Starts counting CPU time: this process's, and the local PostgreSQL processes' (null when the
 * server is elsewhere). Backends that exit meanwhile are lost to the count, so the bench keeps its
 * connections open across the measured work.
 */
function cpuClock(): () => { node: number; postgres: number | null } {
  const node0 = process.cpuUsage();
  const pg0 = postgresCpuMicros();
  return () => {
    const node = process.cpuUsage(node0);
    const pg1 = postgresCpuMicros();
    return { node: node.user + node.system, postgres: pg0 === null || pg1 === null ? null : pg1 - pg0 };
  };
}

/**
 * The storage floor of an ingest: the rows it left in its tables (events, devices, meter points,
 * histories, transitions; their final versions only), dumped to files and `COPY`ed into the same
 * tables of a fresh database, with their keys and indexes and no rule at all, in one transaction.
 * No ingest that stores these rows can go faster on this server. Returns the seconds it took.
 */
async function storageFloor(env: BenchEnv, sourceUrl: string): Promise<number> {
  const tables = Object.entries(INSERTED_COLUMNS);
  const src = new Client({ connectionString: sourceUrl });
  await src.connect();
  try {
    for (const [table, columns] of tables) {
      await pipeline(
        src.query(copyTo(`COPY (SELECT ${columns} FROM ${table}) TO STDOUT`)),
        createWriteStream(`${env.workDir}/floor-${table}.tsv`),
      );
    }
  } finally {
    await src.end();
  }
  const db = await env.createDatabase();
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const t = performance.now();
    await c.query("BEGIN");
    const spent: string[] = [];
    for (const [table, columns] of tables) {
      const t0 = performance.now();
      await pipeline(
        createReadStream(`${env.workDir}/floor-${table}.tsv`),
        c.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)),
      );
      spent.push(`${table} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    }
    env.log(`storage floor by table: ${spent.join(", ")}`);
    await c.query("COMMIT");
    return (performance.now() - t) / 1000;
  } finally {
    await c.end();
  }
}

export async function run(env: BenchEnv): Promise<void> {
  const n = Number(process.env.BENCH_INGEST_EVENTS ?? 1_000_000);
  const ndjson = `${env.workDir}/events.ndjson`;
  const tsv = `${env.workDir}/events.tsv`;
  const events = function* () {
    let i = 0;
    for (const e of generateSeedEvents({ meterPoints: 5_000_000, prefix: "bench" })) {
      if (i++ >= n) return;
      yield e;
    }
  };
  await writeLines(
    ndjson,
    (function* () {
      for (const e of events()) yield `${JSON.stringify(e)}\n`;
    })(),
  );
  await writeLines(
    tsv,
    (function* () {
      for (const e of events()) yield `${FIELDS.map((f) => e[f] ?? "\\N").join("\t")}\n`;
    })(),
  );
  env.log(`${n.toLocaleString("en-GB")} events, ${(statSync(ndjson).size / 1e6).toFixed(0)} MB of NDJSON`);

  // 1. The ceiling: COPY of the same rows into a bare table.
  const copyDb = await env.createDatabase();
  const c = new Client({ connectionString: copyDb.url });
  await c.connect();
  await c.query(
    `CREATE TABLE bare_event (event_id text, occurred_at timestamptz, type text, mpxn text, device_id text,
       supplier text, network_operator text, device_type text, smets text, manufacturer text, model text,
       firmware_version text, status text, role text)`,
  );
  let t = performance.now();
  await pipeline(createReadStream(tsv), c.query(copyFrom("COPY bare_event FROM STDIN")));
  const copySecs = (performance.now() - t) / 1000;
  env.result("COPY into a bare table", n / copySecs, "events/s");

  // 1b. The floor of any ingest that keeps eventId as an idempotency key (SPEC §3): the same COPY
  // into the same table with a primary key on event_id and nothing else. No rule, no history, no
  // other index; it shows how much of the ratio a single unique index already takes.
  await c.query("CREATE TABLE keyed_event (LIKE bare_event, PRIMARY KEY (event_id))");
  t = performance.now();
  await pipeline(createReadStream(tsv), c.query(copyFrom("COPY keyed_event FROM STDIN")));
  const keyedSecs = (performance.now() - t) / 1000;
  await c.end();
  env.result("COPY into a table keyed by event_id", n / keyedSecs, "events/s");
  env.result("keyed COPY / COPY", copySecs / keyedSecs, "× (the idempotency key alone)");

  // 2. The ingest path.
  const config = loadConfig({ ...process.env, LOG_LEVEL: "silent", DATABASE_URL: env.databaseUrl });
  const app = await openApp(config, createLogger("silent"), { databaseUrl: env.databaseUrl, migrate: false });
  try {
    t = performance.now();
    const cpu = cpuClock();
    const s = await ingestStream(openInput(ndjson), app.applier, {
      batchSize: config.INGEST_BATCH_SIZE,
      rejectsPath: `${env.workDir}/rejects.ndjson`,
    });
    const secs = (performance.now() - t) / 1000;
    if (s.applied !== n) env.log(`warning: ${s.rejected} rejected ${JSON.stringify(s.rejectedByCode)}`);
    env.result("ingest (batch size " + String(config.INGEST_BATCH_SIZE) + ")", n / secs, "events/s");
    env.result("ingest transitions recorded", s.transitions);
    env.result("ingest / COPY", copySecs / secs, "× (target ≥ 0.3)");
    const used = cpu();
    env.result("ingest CPU per event: Node", used.node / n, "µs");
    if (used.postgres !== null)
      env.result("ingest CPU per event: PostgreSQL", used.postgres / n, "µs (its local processes)");

    // 2b. What storing the ingest's rows costs by itself (see storageFloor): the part of the gap to
    // a bare COPY that comes from the schema (the idempotency key, the histories, the indexes the
    // read paths need), not from the rules or the client.
    const floorSecs = await storageFloor(env, env.databaseUrl);
    env.result("storage floor: the ingest's rows COPYed into their tables", n / floorSecs, "events/s");
    env.result(
      "storage floor / COPY",
      copySecs / floorSecs,
      "× (the most any ingest storing these rows can reach)",
    );
    env.result("ingest / storage floor", floorSecs / secs, "×");

    // 3. Mass events on the inventory just loaded (SPEC §9): a CPL removal suspends every
    // commissioned smart meter, then half of them go through SMKI Recovery and Recovered. These are
    // updates of existing rows, the other shape of bulk work; no flag may change.
    const ids = (
      await app.ds.query<{ device_id: string }[]>(
        `SELECT device_id FROM device WHERE device_type IN ('ESME', 'GSME') AND status = 'Commissioned'
          ORDER BY device_id`,
      )
    ).map((r) => r.device_id);
    const mass = `${env.workDir}/mass.ndjson`;
    await writeLines(
      mass,
      (function* () {
        const steps = [
          ["Suspended", ids],
          ["Recovery", ids.slice(0, ids.length / 2)],
          ["Recovered", ids.slice(0, ids.length / 2)],
        ] as const;
        for (const [step, [status, population]] of steps.entries()) {
          for (const deviceId of population) {
            const event = {
              eventId: `mass-${status}-${deviceId}`,
              occurredAt: `2030-01-0${step + 1}T00:00:00Z`,
              type: "DeviceStatusChanged",
              deviceId,
              status,
            };
            yield `${JSON.stringify(event)}\n`;
          }
        }
      })(),
    );
    const massEvents = ids.length * 2;
    t = performance.now();
    const m = await ingestStream(openInput(mass), app.applier, {
      batchSize: config.INGEST_BATCH_SIZE,
      rejectsPath: `${env.workDir}/mass-rejects.ndjson`,
    });
    const massSecs = (performance.now() - t) / 1000;
    if (m.applied !== massEvents) env.log(`warning: mass events ${JSON.stringify(m)}`);
    env.result(
      `mass events (${ids.length.toLocaleString("en-GB")} meters suspended, half recovered)`,
      massEvents / massSecs,
      "events/s",
    );
    env.result("mass events transitions recorded", m.transitions, "(must be 0)");
  } finally {
    await app.close();
  }
}
