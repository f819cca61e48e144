import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { type App, openApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type RunningServer, startServer } from "../../src/graphql/server";
import { createLogger } from "../../src/logger";
import { ApiKeyStore } from "../../src/persistence/apiKeyStore";
import { type SqlReader, createReadRouter } from "../../src/persistence/readRouting";
import { createTestDatabase } from "../support/harness";
import { withClient } from "./support";

/**
 * Read replicas stood in for by separate databases on the test server, each with deliberately
 * different content: whatever a read returns shows which database answered it.
 */
const X = "1312345678907"; // on the primary and both "replicas", with a different supplier on each
const Y = "1200000000011"; // written through the API: on the primary only

const register = (eventId: string, mpxn: string, supplier: string) => ({
  eventId,
  occurredAt: "2026-03-01T09:00:00Z",
  type: "MeterPointRegistered",
  mpxn,
  supplier,
});

async function seed(url: string, supplier: string): Promise<void> {
  const app = await openApp(loadConfig({ NODE_ENV: "test" }), createLogger("silent"), {
    databaseUrl: url,
    migrate: false,
  });
  try {
    const o = await app.applier.applyRaw([register(`seed-${supplier}`, X, supplier)]);
    expect(o.applied).toBe(1);
  } finally {
    await app.close();
  }
}

describe("GraphQL reads on read replicas", () => {
  const dbs: { url: string; drop(): Promise<void> }[] = [];
  let primary: string;
  let replicas: string[];
  let app: App;
  let server: RunningServer;
  let key: string;

  const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
  const supplierOf = async (mpxn: string) =>
    (
      await gql<{ meterPoint: { supplier: string } | null }>(
        `query($m: ID!) { meterPoint(mpxn: $m) { supplier } }`,
        {
          m: mpxn,
        },
      )
    ).meterPoint?.supplier ?? null;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) dbs.push(await createTestDatabase());
    primary = dbs[0]!.url;
    replicas = [dbs[1]!.url, dbs[2]!.url];
    await seed(primary, "PRIM");
    await seed(replicas[0]!, "REPA");
    await seed(replicas[1]!, "REPB");
    const config = loadConfig({ NODE_ENV: "test", READ_REPLICA_URLS: replicas.join(",") });
    app = await openApp(config, createLogger("silent"), {
      databaseUrl: primary,
      migrate: false,
      readReplicas: true,
    });
    server = await startServer(app, { port: 0, host: "127.0.0.1" });
    // Keys live on the primary only: authentication must not read a replica.
    key = (await new ApiKeyStore(app.ds).create({ role: "DCC" as never, party: null }, "replica test")).key;
  });
  afterAll(async () => {
    await server?.stop();
    await app?.close();
    for (const db of dbs) await db.drop();
  });

  it("opens one pool per replica and reports each in the pool metrics", async () => {
    expect(app.replicas).toHaveLength(2);
    const text = await (await fetch(new URL("/metrics", server.url))).text();
    expect(text).toMatch(/smi_db_pool_connections\{pool="replica-1",state="max"\} 20/);
    expect(text).toMatch(/smi_db_pool_connections\{pool="replica-2",state="max"\} 20/);
  });

  it("answers queries from the replicas, round-robin, never from the primary", async () => {
    const seen: (string | null)[] = [];
    for (let i = 0; i < 6; i++) seen.push(await supplierOf(X));
    expect(new Set(seen)).toEqual(new Set(["REPA", "REPB"]));
    // One statement per query: strictly alternating.
    expect(seen.slice(1).every((s, i) => s !== seen[i])).toBe(true);
  });

  it("writes to the primary, and a mutation reads back what it wrote from the primary", async () => {
    const r = await gql<{
      applyEvents: {
        applied: number;
        transitions: { mpxn: string; to: string; meterPoint: { supplier: string } }[];
      };
    }>(
      `mutation($events: [EventInput!]!) {
         applyEvents(events: $events) { applied transitions { mpxn to meterPoint { supplier } } }
       }`,
      {
        events: [
          { ...register("w1", Y, "NEWS"), type: "METER_POINT_REGISTERED" },
          {
            eventId: "w2",
            occurredAt: "2026-03-01T09:01:00Z",
            type: "DEVICE_REGISTERED",
            deviceId: "00-00-00-00-00-00-00-01",
            deviceType: "ESME",
          },
          {
            eventId: "w3",
            occurredAt: "2026-03-01T09:02:00Z",
            type: "DEVICE_ASSOCIATED",
            deviceId: "00-00-00-00-00-00-00-01",
            mpxn: Y,
          },
          {
            eventId: "w4",
            occurredAt: "2026-03-01T09:03:00Z",
            type: "DEVICE_STATUS_CHANGED",
            deviceId: "00-00-00-00-00-00-00-01",
            status: "COMMISSIONED",
          },
        ],
      },
    );
    expect(r.applyEvents.applied).toBe(4);
    // The meter point exists on the primary only: read back from a replica it would be missing.
    expect(r.applyEvents.transitions).toEqual([{ mpxn: Y, to: "A", meterPoint: { supplier: "NEWS" } }]);

    const count = (url: string) =>
      withClient(
        url,
        async (c) => (await c.query("SELECT count(*)::int AS n FROM meter_point WHERE mpxn = $1", [Y])).rows,
      );
    expect(await count(primary)).toEqual([{ n: 1 }]);
    expect(await count(replicas[0]!)).toEqual([{ n: 0 }]);
    expect(await count(replicas[1]!)).toEqual([{ n: 0 }]);
    // A later query is a read: it goes to a replica, which (standing in for one that lags) lacks it.
    expect(await supplierOf(Y)).toBeNull();
    expect(await supplierOf(Y)).toBeNull();
  });

  it("serves the subscription feed, and what a subscription reads of each transition, from the primary", async () => {
    const client = createClient({
      url: server.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    try {
      const first = await new Promise<unknown>((resolve, reject) => {
        client.subscribe(
          { query: `subscription { serviceFlagChanged(after: "0") { mpxn to meterPoint { supplier } } }` },
          { next: resolve, error: reject, complete: () => resolve("completed without a result") },
        );
      });
      // Only the primary has a transition (the replicas' seeds changed no flag), and only the
      // primary has its meter point.
      expect(first).toEqual({
        data: { serviceFlagChanged: { mpxn: Y, to: "A", meterPoint: { supplier: "NEWS" } } },
      });
    } finally {
      await client.dispose();
    }
  });

  it("keeps CLI-style opens (no readReplicas) on the primary", async () => {
    const cli = await openApp(
      loadConfig({ NODE_ENV: "test", READ_REPLICA_URLS: replicas.join(",") }),
      createLogger("silent"),
      { databaseUrl: primary, migrate: false },
    );
    try {
      expect(cli.replicas).toHaveLength(0);
      const [row] = await cli.readStore.meterPointsByMpxn([X]);
      expect(row?.supplier).toBe("PRIM");
    } finally {
      await cli.close();
    }
  });

  it("refuses to start when a replica cannot be reached, naming it without its password", async () => {
    const u = new URL(primary);
    u.port = "1"; // nothing listens there
    u.password = "never-printed-secret";
    const config = loadConfig({ NODE_ENV: "test", READ_REPLICA_URLS: `${replicas[0]},${u.toString()}` });
    const failed = openApp(config, createLogger("silent"), {
      databaseUrl: primary,
      migrate: false,
      readReplicas: true,
    });
    await expect(failed).rejects.toThrow(/^read replica 2 of READ_REPLICA_URLS could not be reached/);
    await expect(failed).rejects.not.toThrow(/never-printed-secret/);
  });
});

describe("createReadRouter", () => {
  const reader = (name: string, fail?: { code: string }): SqlReader & { calls: number } => ({
    calls: 0,
    async query<T>() {
      this.calls++;
      if (fail) throw Object.assign(new Error(`${name} failed`), fail);
      return name as T;
    },
  });

  it("is the primary itself when there are no replicas", () => {
    const p = reader("p");
    expect(createReadRouter(p, [])).toBe(p);
  });

  it("goes round-robin, and to the primary when the request must see its own writes", async () => {
    let mustUsePrimary = false;
    const r = createReadRouter(reader("p"), [reader("a"), reader("b")], {
      mustUsePrimary: () => mustUsePrimary,
    });
    expect([await r.query(""), await r.query(""), await r.query("")]).toEqual(["a", "b", "a"]);
    mustUsePrimary = true;
    expect(await r.query("")).toBe("p");
  });

  it("answers from the primary when a replica is unreachable, and passes other errors on", async () => {
    const fallbacks: number[] = [];
    const down = reader("down", { code: "ECONNREFUSED" });
    const r = createReadRouter(reader("p"), [down, reader("b")], { onFallback: (i) => fallbacks.push(i) });
    expect(await r.query("")).toBe("p");
    expect(await r.query("")).toBe("b");
    expect(fallbacks).toEqual([0]);
    const broken = createReadRouter(reader("p"), [reader("bad", { code: "42601" })]);
    await expect(broken.query("")).rejects.toMatchObject({ code: "42601" });
  });
});
