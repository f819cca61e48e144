/**
 * Subscriptions (SPEC §6, §9): 1,000 and 10,000 concurrent `serviceFlagChanged` subscribers on one
 * instance, bursts of transitions; commit-to-delivery latency (p50/p99) and server memory per
 * subscriber. Target on the 2-core reference machine: 10,000 subscribers held, p99 < 250 ms.
 *
 * The server (startServer, production mode, a DCC key; rate limit off so 10,000 subscribes from
 * one key are not throttled) runs in this process, so its heap can be measured after a forced GC;
 * the subscribers run in a child process (one graphql-ws client, hence one WebSocket, each), so
 * they do not share the server's event loop. Each subscriber filters on one of NETWORKS network
 * operators, as an operator's systems would. A burst is one writer transaction of BURST transitions
 * spread over the networks, written the way the real writer does (transaction id, then sequences,
 * then the rows and the NOTIFY). Latency is from the writer's COMMIT returning to the subscriber's
 * `next` callback, clocks being `performance.timeOrigin + performance.now()` in each process.
 *
 * Sizes: BENCH_SUB_COUNTS (default 1000,10000), BENCH_SUB_BURSTS (10 per size), BENCH_SUB_BURST (burst sizes, 5,20),
 * BENCH_SUB_NETWORKS (10). Alone: `npm run bench -- subscriptions`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { createClient } from "graphql-ws";
import { Client } from "pg";
import WebSocket from "ws";
import { openApp } from "../src/app";
import { loadConfig } from "../src/config";
import { Role } from "../src/domain/access";
import { startServer } from "../src/graphql/server";
import { createLogger } from "../src/logger";
import { ApiKeyStore } from "../src/persistence/apiKeyStore";
import { type BenchEnv } from "./run";

const CHILD_FLAG = "--subscription-bench-clients";
const QUERY = `subscription($f: TransitionFilter) { serviceFlagChanged(filter: $f) { sequence mpxn networkOperator from to effectiveAt } }`;
const now = () => performance.timeOrigin + performance.now();

type ToChild =
  | { type: "connect"; url: string; key: string; n: number; networks: string[] }
  | { type: "report"; commits: Record<string, number> }
  | { type: "close" };
type FromChild =
  | { type: "connected"; n: number; failed: number }
  | { type: "received"; total: number }
  | { type: "report"; count: number; p50: number; p99: number; max: number };

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---- the subscribers' process ---------------------------------------------------------------

async function clientMain(): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  const receipts = new Map<string, number[]>();
  let total = 0;
  const clients: { dispose(): void | Promise<void> }[] = [];
  let reportTimer: NodeJS.Timeout | null = null;
  process.on("message", async (m: ToChild) => {
    if (m.type === "connect") {
      let failed = 0;
      for (let i = 0; i < m.n; i += 250) {
        const batch = Array.from({ length: Math.min(250, m.n - i) }, (_, k) => i + k);
        await Promise.all(
          batch.map(
            (j) =>
              new Promise<void>((resolve) => {
                const c = createClient({
                  url: m.url.replace(/^http/, "ws"),
                  webSocketImpl: WebSocket,
                  connectionParams: { authorization: `Bearer ${m.key}` },
                  lazy: false,
                  retryAttempts: 0,
                  onNonLazyError: () => {
                    failed++;
                    resolve();
                  },
                  on: { connected: () => resolve() },
                });
                clients.push(c);
                c.subscribe(
                  { query: QUERY, variables: { f: { networkOperator: m.networks[j % m.networks.length] } } },
                  {
                    next: (r) => {
                      const t = (r.data as { serviceFlagChanged?: { sequence: string } } | undefined)
                        ?.serviceFlagChanged;
                      if (!t) return;
                      const at = now();
                      const list = receipts.get(t.sequence);
                      if (list) list.push(at);
                      else receipts.set(t.sequence, [at]);
                      total++;
                    },
                    error: () => {
                      failed++;
                    },
                    complete: () => undefined,
                  },
                );
              }),
          ),
        );
      }
      reportTimer = setInterval(() => send({ type: "received", total }), 20);
      send({ type: "connected", n: clients.length, failed });
    } else if (m.type === "report") {
      const lat: number[] = [];
      for (const [seq, times] of receipts) {
        const committed = m.commits[seq];
        if (committed === undefined) continue;
        for (const t of times) lat.push(t - committed);
      }
      const sorted = Float64Array.from(lat).sort();
      send({
        type: "report",
        count: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
      });
      receipts.clear();
      total = 0;
    } else if (m.type === "close") {
      if (reportTimer) clearInterval(reportTimer);
      await Promise.all(clients.map((c) => c.dispose()));
      process.exit(0);
    }
  });
}

if (process.argv.includes(CHILD_FLAG)) void clientMain();

// ---- the benchmark (server + writer) ---------------------------------------------------------

function nextMessage<T extends FromChild["type"]>(
  child: ChildProcess,
  type: T,
  until?: (m: Extract<FromChild, { type: T }>) => boolean,
  timeoutMs = 300_000,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", on);
      reject(new Error(`expected a ${type} message from the subscribers within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: FromChild) => {
      if (m.type !== type) return;
      const typed = m as Extract<FromChild, { type: T }>;
      if (until && !until(typed)) return;
      clearTimeout(timer);
      child.off("message", on);
      resolve(typed);
    };
    child.on("message", on);
  });
}

function forceGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

function heapBytes(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

export async function run(env: BenchEnv): Promise<void> {
  const counts = (process.env.BENCH_SUB_COUNTS ?? "1000,10000").split(",").map(Number);
  const bursts = Number(process.env.BENCH_SUB_BURSTS ?? 10);
  const burstSizes = (process.env.BENCH_SUB_BURST ?? "5,20").split(",").map(Number);
  const networkCount = Number(process.env.BENCH_SUB_NETWORKS ?? 10);
  const networks = Array.from({ length: networkCount }, (_, i) => `NET${i}`);
  const gc = forceGc();

  // The server, in this process, on the benchmark's database.
  const config = loadConfig({
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    RATE_LIMIT_POINTS: "0",
    DB_POOL_SIZE: "10",
    DATABASE_URL: env.databaseUrl,
  });
  const app = await openApp(config, createLogger("warn"), { databaseUrl: env.databaseUrl, migrate: false });
  const server = await startServer(app, { port: 0, host: "127.0.0.1" });
  const key = (
    await new ApiKeyStore(app.ds).create({ role: Role.DCC, party: null }, "subscriptions benchmark")
  ).key;
  const writer = new Client({ connectionString: env.databaseUrl });
  await writer.connect();
  let mp = 0;
  try {
    for (const n of counts) {
      const child = fork(__filename, [CHILD_FLAG], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      try {
        const before = heapBytes(gc);
        const rssBefore = process.memoryUsage().rss;
        const t0 = now();
        child.send({ type: "connect", url: server.url, key, n, networks } satisfies ToChild);
        const connected = await nextMessage(child, "connected");
        while (server.feed.stats().liveSubscriptions < n - connected.failed)
          await new Promise((r) => setTimeout(r, 20));
        const held = server.feed.stats().liveSubscriptions;
        env.log(
          `${n} subscribers: ${held} live after ${Math.round(now() - t0)} ms (${connected.failed} failed)`,
        );
        const perSub = (heapBytes(gc) - before) / n;
        const rssPerSub = (process.memoryUsage().rss - rssBefore) / n;

        env.result(`${n} subscribers held`, held, "subscriptions");
        env.result(`${n} subscribers: server heap per subscriber`, (perSub / 1024).toFixed(1), "KiB");
        env.result(`${n} subscribers: server RSS per subscriber`, (rssPerSub / 1024).toFixed(1), "KiB");
        for (const burst of burstSizes) {
          // The subscribers' count of deliveries restarts with each report.
          let expected = 0;
          const commits: Record<string, number> = {};
          for (let b = 0; b < bursts; b++) {
            const rows = Array.from({ length: burst }, (_, k) => ({
              mpxn: String(7000000000000 + mp++),
              network: networks[k % networks.length]!,
            }));
            await writer.query("BEGIN");
            await writer.query("SELECT pg_current_xact_id()");
            const r = await writer.query<{ s: string; n: string }>(
              `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
                    contributing_device_ids, effective_at, cause_event_id)
             SELECT nextval('service_flag_transition_sequence_seq'), u.mpxn, 'ELECTRICITY', u.network, 'SUP1', NULL, 'A',
                    'ANY_COMMISSIONED', '{}', now(), 'bench-' || u.mpxn
               FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(mpxn, network, n) ORDER BY u.n
             RETURNING sequence::text AS s, network_operator AS n`,
              [rows.map((x) => x.mpxn), rows.map((x) => x.network)],
            );
            await writer.query("SELECT pg_notify('smi_transition', '')");
            await writer.query("COMMIT");
            const committedAt = now();
            for (const row of r.rows) {
              commits[row.s] = committedAt;
              // Subscriber j listens to networks[j % networkCount].
              const index = networks.indexOf(row.n);
              expected += Math.floor(n / networkCount) + (index < n % networkCount ? 1 : 0);
            }
            await nextMessage(child, "received", (m) => m.total >= expected - connected.failed * burst);
            await new Promise((r2) => setTimeout(r2, 100));
          }
          child.send({ type: "report", commits } satisfies ToChild);
          const rep = await nextMessage(child, "report");
          const label = `${n} subscribers, bursts of ${burst}`;
          env.result(
            `${label}: deliveries`,
            rep.count,
            `(${bursts} bursts, ${rep.count / bursts} per burst)`,
          );
          env.result(`${label}: commit-to-delivery p50`, rep.p50.toFixed(1), "ms");
          env.result(`${label}: commit-to-delivery p99`, rep.p99.toFixed(1), "ms");
          env.result(`${label}: commit-to-delivery max`, rep.max.toFixed(1), "ms");
        }
        child.send({ type: "close" } satisfies ToChild);
        await new Promise((r2) => child.once("exit", r2));
        while (server.feed.stats().subscriptions > 0) await new Promise((r2) => setTimeout(r2, 20));
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    }
  } finally {
    await writer.end();
    await server.stop();
    await app.close();
  }
}
