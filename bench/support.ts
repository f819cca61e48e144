/**
 * Shared pieces of the benchmarks: a set-based inventory generator (for sizes the event path would
 * take long to build), a gateway server in its own process, a closed-loop load generator, and API
 * keys. Nothing here is measured by itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import { Client } from "pg";
import { Pool } from "undici";
import { Role } from "../src/domain/access";
import { syntheticMpan } from "../src/ingest/synthetic";
import { ApiKeyStore } from "../src/persistence/apiKeyStore";
import { createDataSource } from "../src/persistence/dataSource";

const ROOT = path.resolve(__dirname, "../..");

/** SQL for a valid MPAN core from a 12-digit text `b` (SPEC §2.1 check digit). */
const MPAN_CHECK = `((${[3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]
  .map((p, i) => `substr(b, ${i + 1}, 1)::int * ${p}`)
  .join(" + ")}) % 11) % 10`;

/** The MPxN of row `i` of generateMeterPoints (the same formula in JS). */
export const generatedMpxn = (i: number): string =>
  i % 100 < 55 ? syntheticMpan(10 + (i % 14), i) : String(1_000_000_000 + i);

/**
 * Writes `n` meter points straight into `meter_point` with one INSERT ... SELECT over
 * generate_series (55% MPANs on the 14 distribution networks with valid check digits, 45% MPRNs;
 * flags A 58%, I 5%, N 3%, null 34% by a multiplicative hash of the row number), with the secondary
 * indexes dropped during the load and rebuilt after (a sorted build is several times faster than
 * maintaining them row by row), then ANALYZE. Returns `sample` existing MPxNs drawn uniformly.
 * This is the inventory's shape for reads; devices are not generated.
 */
export async function generateMeterPoints(
  url: string,
  n: number,
  sample = 10_000,
  log: (s: string) => void = () => undefined,
): Promise<string[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const t = performance.now();
    const idx = await c.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
        WHERE tablename = 'meter_point' AND indexname <> 'meter_point_pk'`,
    );
    for (const i of idx.rows) await c.query(`DROP INDEX ${i.name}`);
    const chunk = 2_000_000;
    for (let from = 1; from <= n; from += chunk) {
      const to = Math.min(n, from + chunk - 1);
      await c.query(
        `INSERT INTO meter_point (mpxn, fuel, network_operator, supplier, service_flag, flag_effective_at, registered_at, last_event_at)
         SELECT CASE WHEN elec THEN b || (${MPAN_CHECK})::text ELSE (1000000000 + i)::text END,
                CASE WHEN elec THEN 'ELECTRICITY' ELSE 'GAS' END,
                CASE WHEN elec THEN (ARRAY['EELC','EMEB','LOND','MANW','MIDE','NEEB','NORW','HYDE','SPOW','SEEB','SOUT','SWAE','SWEB','YELG'])[1 + i % 14]
                     ELSE (ARRAY['CADENT','NGN','SGN','WWU'])[1 + i % 4] END,
                (ARRAY['BGAS','EDFE','OVOE','EONN','OCTO','SSEN','SPWR','UTIL'])[1 + (i / 7) % 8],
                CASE WHEN h < 58 THEN 'A' WHEN h < 63 THEN 'I' WHEN h < 66 THEN 'N' END,
                CASE WHEN h < 66 THEN timestamptz '2025-01-01' + (i % 10000) * interval '1 minute' END,
                timestamptz '2024-01-01', timestamptz '2025-01-01'
           FROM (SELECT i, i % 100 < 55 AS elec, (i * 2654435761) % 100 AS h,
                        lpad((10 + i % 14)::text, 2, '0') || lpad(i::text, 10, '0') AS b
                   FROM generate_series($1::bigint, $2::bigint) AS i) g`,
        [from, to],
      );
      log(`generated ${to.toLocaleString("en-GB")} meter points`);
    }
    for (const i of idx.rows) await c.query(i.def);
    await c.query("ANALYZE meter_point");
    log(`${n.toLocaleString("en-GB")} meter points in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    return Array.from({ length: sample }, () => generatedMpxn(1 + Math.floor(Math.random() * n)));
  } finally {
    await c.end();
  }
}

/** Creates an API key of `role` directly in the database (as `keys create` does). */
export async function createApiKey(url: string, role: Role = Role.COMPARISON_SITE): Promise<string> {
  const ds = createDataSource({ url, poolSize: 1 });
  await ds.initialize();
  try {
    return (await new ApiKeyStore(ds).create({ role, party: null }, "benchmark")).key;
  } finally {
    await ds.destroy();
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  return port;
}

export interface ServerProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `smi-gateway serve` on `databaseUrl` in its own process (production mode, so the server does what
 * it does in production; no demo data), so that the load generator does not share its event loop.
 */
export async function startServerProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS: extra node options for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, path.join(ROOT, "bin/smi-gateway.js"), "serve"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: "127.0.0.1",
        NODE_ENV: "production",
        LOG_LEVEL: "warn",
        LOAD_DEMO: "false",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("smi-gateway ready")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) =>
      reject(new Error(`expected the server to start, got exit ${code}:\n${out}`)),
    );
  });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

export interface LoadResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** The measured window's latencies, sorted (to combine several runs). */
  readonly latencies: readonly number[];
}

/** Several runs of the same load as one: requests over their total duration, pooled latencies. */
export function combineLoads(runs: readonly LoadResult[]): LoadResult {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((s, r) => s + r.requests / r.perSecond, 0);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    p50ms: q(0.5),
    p99ms: q(0.99),
    latencies,
  };
}

/**
 * A closed loop: `concurrency` workers each send a request, wait for its answer, send the next, for
 * `durationMs` after `warmupMs`. Latencies are those of the measured window.
 */
export async function runLoad(o: {
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  request: (i: number) => Promise<void>;
}): Promise<LoadResult> {
  const warmupEnd = performance.now() + (o.warmupMs ?? 1000);
  const end = warmupEnd + o.durationMs;
  const latencies: number[] = [];
  let counter = 0;
  const worker = async () => {
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      await o.request(counter++);
      if (t >= warmupEnd) latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    perSecond: latencies.length / (o.durationMs / 1000),
    p50ms: q(0.5),
    p99ms: q(0.99),
    latencies,
  };
}

/**
 * A keep-alive GraphQL client on undici's `Pool` (one connection per worker, no pipelining: the
 * load is a closed loop). `node:http`'s client costs about as much CPU per request as the server
 * does to answer it, and the load generator shares the machine's cores with the server and the
 * database, so with it the benchmark measured the client as much as the server; undici's costs a
 * fraction of that, which is what the pg ceiling's client (`pg`'s pool) costs too. `postBody` takes
 * a request body serialised by the caller (the benchmark builds it from a template).
 */
export function createGraphQLClient(url: string, apiKey: string, connections: number) {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  const isReset = (e: NodeJS.ErrnoException) =>
    e.code === "ECONNRESET" || e.code === "UND_ERR_SOCKET" || e.message === "socket hang up";
  const postBody = <T>(body: string, retry = true): Promise<T> =>
    postOnce<T>(body).catch((e: NodeJS.ErrnoException) => {
      // A keep-alive connection the server closed between phases: once more, on a fresh one.
      if (retry && isReset(e)) return postBody<T>(body, false);
      throw e;
    });
  async function postOnce<T>(body: string): Promise<T> {
    const res = await pool.request({ path: u.pathname, method: "POST", headers, body });
    const text = await res.body.text();
    const parsed = JSON.parse(text) as { data?: T; errors?: unknown[] };
    if (res.statusCode !== 200 || parsed.errors) {
      throw new Error(`expected 200 and data, got ${res.statusCode}: ${text.slice(0, 300)}`);
    }
    return parsed.data!;
  }
  const post = <T>(query: string, variables: Record<string, unknown>): Promise<T> =>
    postBody<T>(JSON.stringify({ query, variables }));
  return {
    post,
    postBody,
    close: (): void => void pool.destroy().catch(() => undefined),
  };
}
