/**
 * `npm run bench [-- NAME ...]`: the benchmarks of SPEC §9, each on its own fresh database.
 *
 * The database server is `DATABASE_URL`'s when set (benchmark databases are created beside it and
 * dropped afterwards; the role needs CREATEDB), else an embedded PostgreSQL started in a temporary
 * directory for the run (like the tests, see test/support/globalSetup.js). One migrated template
 * database is built first; each benchmark gets `CREATE DATABASE ... TEMPLATE` of it.
 *
 * Module interface: a file `bench/NAME.bench.ts` exporting
 *
 *     export async function run(env: BenchEnv): Promise<void>
 *
 * `env.databaseUrl` is its fresh migrated database; `env.createDatabase()` makes more (dropped at
 * the end); `env.workDir` is a scratch directory; `env.result(...)` records a figure (printed as it
 * comes and in the final table); `env.log` prints progress. Every `*.bench.js` in this directory is
 * run, in the order of ORDER below and then by name; `npm run bench -- ingest lookups` runs just
 * those. Figures are ratios measured in the same run wherever a ceiling exists, so they travel
 * between machines better than absolute numbers.
 *
 * Sizes can be reduced for a quick look: BENCH_INGEST_EVENTS (default 1000000), BENCH_SCALES
 * (default 100000,1000000,10000000), BENCH_DURATION_MS per load phase (default 5000).
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { createDataSource, migrate } from "../src/persistence/dataSource";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../src/persistence/embeddedPostgres";

export interface BenchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export interface BenchEnv {
  /** A fresh, migrated database for this benchmark. */
  readonly databaseUrl: string;
  /** Another fresh, migrated database on the same server (dropped when the benchmark ends). */
  createDatabase(): Promise<BenchDatabase>;
  /** The server's maintenance database URL (for CREATE DATABASE and server settings). */
  readonly adminUrl: string;
  /** A scratch directory, removed at the end. */
  readonly workDir: string;
  log(line: string): void;
  /** Records one figure of this benchmark. */
  result(metric: string, value: number | string, unit?: string): void;
}

export interface BenchModule {
  run(env: BenchEnv): Promise<void>;
}

/** Known benchmarks in the order they run; any other `*.bench.js` runs after them. */
const ORDER = ["statements", "ingest", "lookups", "scale", "subscriptions", "exportFlows"];
const TEMPLATE = "smi_bench_template";

interface Row {
  bench: string;
  metric: string;
  value: string;
  unit: string;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function createFromTemplate(adminUrl: string): Promise<BenchDatabase> {
  const name = `smi_bench_${randomBytes(5).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  return {
    url: withDatabase(adminUrl, name),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export function listBenchmarks(dir = __dirname): string[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".bench.js"))
    .map((f) => f.slice(0, -".bench.js".length));
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function main(argv: string[]): Promise<number> {
  const available = listBenchmarks();
  const wanted = argv.length > 0 ? argv : available;
  const unknown = wanted.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    console.error(`expected benchmark names among ${available.join(", ")}, got ${unknown.join(", ")}`);
    return 2;
  }

  const workRoot = mkdtempSync(path.join(os.tmpdir(), "smi-bench-"));
  // As root the embedded server runs as `postgres`, which must reach its data directory in here.
  chmodSync(workRoot, 0o755);
  let embedded: EmbeddedDatabase | null = null;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(workRoot, "pg"),
      port,
      database: "postgres",
      ephemeral: true,
    });
    adminUrl = embedded.url;
    console.log(`embedded PostgreSQL on port ${port} (set DATABASE_URL to use another server)`);
  }
  const rows: Row[] = [];
  let failed = 0;
  try {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await adminQuery(adminUrl, `CREATE DATABASE ${TEMPLATE}`);
    const ds = createDataSource({ url: withDatabase(adminUrl, TEMPLATE), poolSize: 1 });
    await ds.initialize();
    await migrate(ds);
    await ds.destroy();

    for (const name of wanted) {
      console.log(`\n== ${name}`);
      const dbs: BenchDatabase[] = [];
      const workDir = mkdtempSync(path.join(workRoot, `${name}-`));
      const started = Date.now();
      try {
        const first = await createFromTemplate(adminUrl);
        dbs.push(first);
        const mod = (await import(path.join(__dirname, `${name}.bench.js`))) as Partial<BenchModule>;
        if (typeof mod.run !== "function") {
          throw new Error(`expected bench/${name}.bench.ts to export run(env), got no run function`);
        }
        const admin = adminUrl;
        await mod.run({
          databaseUrl: first.url,
          adminUrl: admin,
          workDir,
          async createDatabase() {
            const db = await createFromTemplate(admin);
            dbs.push(db);
            return db;
          },
          log: (line) => console.log(`  ${line}`),
          result(metric, value, unit = "") {
            const v = typeof value === "number" ? formatNumber(value) : value;
            rows.push({ bench: name, metric, value: v, unit });
            console.log(`  ${metric}: ${v}${unit ? ` ${unit}` : ""}`);
          },
        });
        console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        console.error(`  ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      } finally {
        for (const db of dbs) await db.drop().catch(() => undefined);
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  } finally {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`).catch(() => undefined);
    await embedded?.stop();
    rmSync(workRoot, { recursive: true, force: true });
  }

  console.log("\n== summary");
  const w = (k: keyof Row) => Math.max(...rows.map((r) => r[k].length), k.length);
  const [wb, wm, wv] = [w("bench"), w("metric"), w("value")];
  for (const r of rows) {
    console.log(`${r.bench.padEnd(wb)}  ${r.metric.padEnd(wm)}  ${r.value.padStart(wv)} ${r.unit}`);
  }
  console.log(
    `machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  return failed > 0 ? 1 : 0;
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-GB");
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-GB");
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
