import { type AddressInfo, type Socket, connect, createServer } from "node:net";
import { poolOf } from "../../src/persistence/readRouting";
import { type TestApp, createTestDatabase, startTestApp } from "../support/harness";
import { withClient } from "./support";

/** Runs `check` while the database refuses connections (those open are cut), then lets them in again. */
async function whileDatabaseRefuses(databaseUrl: string, check: () => Promise<void>): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = process.env.SMI_TEST_ADMIN_URL!;
  await withClient(admin, async (c) => {
    await c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
  });
  try {
    await check();
  } finally {
    await withClient(admin, (c) => c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
  }
}

describe("/healthz and /readyz", () => {
  let t: TestApp;
  const get = async (p: string) => {
    const res = await fetch(new URL(p, t.url));
    return { status: res.status, body: (await res.json()) as unknown };
  };
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers both without an API key while everything is fine", async () => {
    expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
  });

  it("is not ready while a migration is pending", async () => {
    const [last] = (await t.app.ds.query(
      "DELETE FROM typeorm_migrations WHERE id = (SELECT max(id) FROM typeorm_migrations) RETURNING timestamp, name",
    )) as [{ timestamp: string; name: string }[], number];
    try {
      expect(await get("/readyz")).toEqual({ status: 503, body: { status: "migrations pending" } });
      expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    } finally {
      await t.app.ds.query("INSERT INTO typeorm_migrations (timestamp, name) VALUES ($1, $2)", [
        last[0]!.timestamp,
        last[0]!.name,
      ]);
    }
    expect((await get("/readyz")).status).toBe(200);
  });

  it("is not ready while the database refuses connections, and ready again after", async () => {
    await whileDatabaseRefuses(t.app.databaseUrl, async () => {
      expect(await get("/readyz")).toEqual({ status: 503, body: { status: "database unreachable" } });
      expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    });
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
  });
});

/**
 * A TCP relay to the test database server: a replica's address that can go away. `close()` leaves
 * its port closed (connections refused), `reopen()` listens on the same port again, `stall()`
 * accepts connections and never answers (a replica that hangs rather than refuses).
 */
async function openRelay(target: string) {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let stalled = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (stalled) return;
    const upstream = connect(Number(to.port), to.hostname);
    track(upstream);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      dropAll();
      await closed;
    },
    reopen: () => listen(port),
    stall() {
      stalled = true;
      dropAll();
    },
    resume() {
      stalled = false;
      dropAll();
    },
  };
}

describe("/readyz with read replicas", () => {
  let t: TestApp;
  let replicas: { url: string; drop(): Promise<void> }[] = [];
  let relay: Awaited<ReturnType<typeof openRelay>>;
  const get = async (p: string) => {
    const res = await fetch(new URL(p, t.url));
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const replicaGauges = async () =>
    (await (await fetch(new URL("/metrics", t.url))).text())
      .split("\n")
      .filter((l) => l.startsWith("smi_read_replica_up{"));

  beforeAll(async () => {
    // Two live databases stand in for the replicas; the second is reached through a relay, whose
    // port the tests close, reopen and stall.
    replicas = [await createTestDatabase(), await createTestDatabase()];
    relay = await openRelay(replicas[1]!.url);
    t = await startTestApp({ READ_REPLICA_URLS: `${replicas[0]!.url},${relay.url}` }, { readReplicas: true });
  });
  afterAll(async () => {
    relay?.resume();
    await t?.close();
    await relay?.close();
    for (const db of replicas) await db.drop();
  });

  it("counts every replica up while all of them answer", async () => {
    expect(t.app.replicas).toHaveLength(2);
    expect(await get("/readyz")).toEqual({
      status: 200,
      body: { status: "ready", replicas: { up: 2, down: 0 } },
    });
    expect(await replicaGauges()).toEqual([
      'smi_read_replica_up{replica="replica-1"} 1',
      'smi_read_replica_up{replica="replica-2"} 1',
    ]);
  });

  it("stays ready when a replica's port is closed, counts it down, and still answers reads", async () => {
    await relay.close();
    expect(await get("/readyz")).toEqual({
      status: 200,
      body: { status: "ready", replicas: { up: 1, down: 1 } },
    });
    expect(await replicaGauges()).toEqual([
      'smi_read_replica_up{replica="replica-1"} 1',
      'smi_read_replica_up{replica="replica-2"} 0',
    ]);
    // Round-robin: one of these two reads is sent to the closed replica and answered by the primary.
    for (let i = 0; i < 2; i++) {
      const r = await t.gql(`{ serviceFlagCounts { serviceFlag count } }`);
      expect(r.body.errors).toBeUndefined();
    }
  });

  it("counts the replica up again once it answers again", async () => {
    await relay.reopen();
    expect(await get("/readyz")).toEqual({
      status: 200,
      body: { status: "ready", replicas: { up: 2, down: 0 } },
    });
    expect(await replicaGauges()).toContain('smi_read_replica_up{replica="replica-2"} 1');
  });

  it("answers within its timeout while a replica accepts connections and never replies", async () => {
    relay.stall();
    try {
      // The first check may meet a pooled connection that the stall has just cut (an immediate
      // error); the next one must connect anew, and meets silence.
      expect((await get("/readyz")).body).toMatchObject({ replicas: { up: 1, down: 1 } });
      expect(poolOf(t.app.replicas[1]!).idleCount).toBe(0);
      const started = Date.now();
      expect(await get("/readyz")).toEqual({
        status: 200,
        body: { status: "ready", replicas: { up: 1, down: 1 } },
      });
      // Not a benchmark: the check gives up after 2 s, where the pool would wait 10 s to connect.
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      relay.resume();
    }
  });

  it("is not ready while the primary refuses connections, however many replicas answer", async () => {
    await whileDatabaseRefuses(t.app.databaseUrl, async () => {
      expect(await get("/readyz")).toEqual({
        status: 503,
        body: { status: "database unreachable", replicas: { up: 2, down: 0 } },
      });
    });
    expect((await get("/readyz")).status).toBe(200);
  });
});
