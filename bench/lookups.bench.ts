/**
 * Flag look-ups over HTTP against the same look-ups sent straight to PostgreSQL with `pg` at the
 * same concurrency (the ceiling), SPEC §9: a comparison site's `meterPoint(mpxn)` (single) and
 * `meterPoints(mpxns)` of 100, on 1,000,000 generated meter points (BENCH_LOOKUP_METER_POINTS).
 * The server runs in its own process in production mode with a COMPARISON_SITE key (so
 * authentication, field authorization, depth/cost limits and rate limiting are all in the path; the
 * rate limit is raised above what the load sends, see below);
 * the ceiling uses a pool of as many connections as the load has workers, with a prepared statement.
 * Target: single look-up ≥ 0.5× the ceiling.
 *
 * Both sides use a light client, so that the figure is the server's and not the load generator's
 * (all three processes share the same cores): the ceiling `pg`'s pool, the HTTP side undici's
 * `Pool` with one keep-alive connection per worker (see `createGraphQLClient`) and request bodies
 * serialised from a template (the variable's JSON spliced into a fixed prefix and suffix), as a
 * client repeating the same operation would. Each answer is still parsed and checked. The two sides
 * alternate in short rounds (BENCH_LOOKUP_ROUNDS, default 3), so that other load on the machine
 * weighs on both alike.
 *
 * What the server does on this path (src/graphql/fastLookup.ts): the look-up is answered before
 * Express and Apollo, with the same checks, from prepared statements; single look-ups that arrive
 * together are coalesced into one statement (each still read after its request arrived, nothing
 * cached), so at this concurrency the HTTP side sends fewer statements than the ceiling's one per
 * look-up. The figure is the server's throughput against that of a client talking to PostgreSQL
 * directly, not a statement-for-statement comparison.
 */
import { Pool } from "pg";
import { type BenchEnv } from "./run";
import {
  combineLoads,
  createApiKey,
  createGraphQLClient,
  generateMeterPoints,
  type LoadResult,
  runLoad,
  startServerProcess,
} from "./support";

const SINGLE = `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`;
const LIST = `query Many($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`;
const SQL_SINGLE = "SELECT mpxn, fuel, service_flag, flag_effective_at FROM meter_point WHERE mpxn = $1";
const SQL_LIST =
  "SELECT mpxn, fuel, service_flag, flag_effective_at FROM meter_point WHERE mpxn = ANY($1::text[])";

export async function run(env: BenchEnv): Promise<void> {
  const n = Number(process.env.BENCH_LOOKUP_METER_POINTS ?? 1_000_000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
  const sample = await generateMeterPoints(env.databaseUrl, n, 20_000, env.log);
  const pick = (i: number) => sample[(i * 7919) % sample.length]!;
  const pickList = (i: number) => Array.from({ length: 100 }, (_, k) => pick(i * 100 + k));
  // The body of each request: `{"query":...,"variables":{"m":` + the MPxN(s) + `}}`.
  const prefix = (query: string) => `${JSON.stringify({ query, variables: { m: null } }).slice(0, -6)}`;
  const singlePrefix = prefix(SINGLE);
  const listPrefix = prefix(LIST);
  const key = await createApiKey(env.databaseUrl);
  const report = (label: string, r: LoadResult) =>
    env.result(
      label,
      `${Math.round(r.perSecond)}/s p50 ${r.p50ms.toFixed(2)} ms p99 ${r.p99ms.toFixed(2)} ms`,
    );

  const pool = new Pool({ connectionString: env.databaseUrl, max: concurrency });
  pool.on("error", () => undefined); // an idle client ended by the database's drop
  // The per-key limiter stays in the path (every request is counted), with a limit above what the
  // load sends: the default (20,000 per 10 s) would answer 429 once the server passes 2,000/s.
  const server = await startServerProcess(env.databaseUrl, { RATE_LIMIT_POINTS: "1000000000" });
  const client = createGraphQLClient(server.url, key, concurrency);
  // The two sides of a comparison alternate in ROUNDS short phases (pg, HTTP, HTTP, pg, ...), so
  // that a change in the machine's other load during the run weighs on both alike; each side's
  // figure is its requests over its total measured time.
  const rounds = Number(process.env.BENCH_LOOKUP_ROUNDS ?? 3);
  const compare = async (
    pgRequest: (i: number) => Promise<void>,
    httpRequest: (i: number) => Promise<void>,
  ) => {
    const pgRuns: LoadResult[] = [];
    const httpRuns: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const phase = (request: (i: number) => Promise<void>) =>
        runLoad({ concurrency, durationMs: durationMs / rounds, warmupMs: r === 0 ? 1000 : 250, request });
      if (r % 2 === 0) {
        pgRuns.push(await phase(pgRequest));
        httpRuns.push(await phase(httpRequest));
      } else {
        httpRuns.push(await phase(httpRequest));
        pgRuns.push(await phase(pgRequest));
      }
    }
    return { pg: combineLoads(pgRuns), http: combineLoads(httpRuns) };
  };
  try {
    env.log(`concurrency ${concurrency}, ${durationMs} ms per side in ${rounds} alternating rounds`);
    const single = await compare(
      async (i) => {
        const r = await pool.query({ name: "one", text: SQL_SINGLE, values: [pick(i)] });
        if (r.rows.length !== 1) throw new Error(`expected one row for ${pick(i)}, got ${r.rows.length}`);
      },
      async (i) => {
        const d = await client.postBody<{ meterPoint: { mpxn: string } | null }>(
          `${singlePrefix}${JSON.stringify(pick(i))}}}`,
        );
        if (d.meterPoint?.mpxn !== pick(i)) throw new Error(`expected ${pick(i)}, got ${JSON.stringify(d)}`);
      },
    );
    report("pg single (ceiling)", single.pg);
    report("HTTP meterPoint", single.http);
    env.result("single: HTTP / pg", single.http.perSecond / single.pg.perSecond, "× (target ≥ 0.5)");

    const list = await compare(
      async (i) => {
        const r = await pool.query({ name: "many", text: SQL_LIST, values: [pickList(i)] });
        if (r.rows.length < 90) throw new Error(`expected about 100 rows, got ${r.rows.length}`);
      },
      async (i) => {
        const d = await client.postBody<{ meterPoints: unknown[] }>(
          `${listPrefix}${JSON.stringify(pickList(i))}}}`,
        );
        if (d.meterPoints.length !== 100)
          throw new Error(`expected 100 results, got ${d.meterPoints.length}`);
      },
    );
    report("pg list of 100 (ceiling)", list.pg);
    report("HTTP meterPoints(100)", list.http);
    env.result("list of 100: HTTP / pg", list.http.perSecond / list.pg.perSecond, "×");
  } finally {
    client.close();
    await server.stop();
    await pool.end();
  }
}
