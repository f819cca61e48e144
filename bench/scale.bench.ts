/**
 * Look-up latency as the inventory grows (SPEC §9): 100,000, 1,000,000 and 10,000,000 meter points
 * (BENCH_SCALES), each in a fresh database built set-based in SQL (see generateMeterPoints: one
 * INSERT ... SELECT over generate_series in chunks of 2 million, secondary indexes rebuilt after the
 * load, ANALYZE). At each size: a comparison site's `meterPoint` over HTTP and the same look-up
 * straight to PostgreSQL, at concurrency 4, p50 and p99. Flat means the p50 at the largest size
 * stays within a small factor of the smallest (a B-tree gains one level between 100k and 10M).
 */
import { Pool } from "pg";
import { type BenchEnv } from "./run";
import {
  createApiKey,
  createGraphQLClient,
  generateMeterPoints,
  runLoad,
  startServerProcess,
} from "./support";

const SINGLE = `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`;
const SQL_SINGLE = "SELECT mpxn, fuel, service_flag, flag_effective_at FROM meter_point WHERE mpxn = $1";

export async function run(env: BenchEnv): Promise<void> {
  const scales = (process.env.BENCH_SCALES ?? "100000,1000000,10000000").split(",").map(Number);
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
  const concurrency = 4;
  const p50s: number[] = [];
  const pgP50s: number[] = [];
  for (const n of scales) {
    const db = await env.createDatabase();
    try {
      const sample = await generateMeterPoints(db.url, n, 20_000, env.log);
      const pick = (i: number) => sample[(i * 7919) % sample.length]!;
      const pool = new Pool({ connectionString: db.url, max: concurrency });
      pool.on("error", () => undefined); // an idle client ended by the database's drop
      // Rate limiting stays in the path, above what the load sends (the default, 2,000/s per key,
      // is below what the flag look-up path answers at concurrency 4).
      const server = await startServerProcess(db.url, { RATE_LIMIT_POINTS: "1000000000" });
      const client = createGraphQLClient(server.url, await createApiKey(db.url), concurrency);
      try {
        // A long warm-up: the server process is fresh at each size (JIT, key cache, pool).
        const pg = await runLoad({
          concurrency,
          durationMs,
          warmupMs: 3000,
          request: async (i) => {
            await pool.query({ name: "one", text: SQL_SINGLE, values: [pick(i)] });
          },
        });
        const http = await runLoad({
          concurrency,
          durationMs,
          warmupMs: 3000,
          request: async (i) => {
            await client.post(SINGLE, { m: pick(i) });
          },
        });
        const label = n.toLocaleString("en-GB");
        env.result(
          `${label}: HTTP meterPoint`,
          `p50 ${http.p50ms.toFixed(2)} ms p99 ${http.p99ms.toFixed(2)} ms`,
        );
        env.result(`${label}: pg`, `p50 ${pg.p50ms.toFixed(2)} ms p99 ${pg.p99ms.toFixed(2)} ms`);
        p50s.push(http.p50ms);
        pgP50s.push(pg.p50ms);
      } finally {
        client.close();
        await server.stop();
        await pool.end();
      }
    } finally {
      await db.drop();
    }
  }
  env.result("HTTP p50 largest / smallest", p50s[p50s.length - 1]! / p50s[0]!, "× (flat ≈ 1)");
  env.result("pg p50 largest / smallest", pgP50s[pgP50s.length - 1]! / pgP50s[0]!, "× (flat ≈ 1)");
}
