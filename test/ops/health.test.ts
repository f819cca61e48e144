import { type TestApp, startTestApp } from "../support/harness";
import { withClient } from "./support";

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
    const name = new URL(t.app.databaseUrl).pathname.slice(1);
    const admin = process.env.SMI_TEST_ADMIN_URL!;
    await withClient(admin, async (c) => {
      await c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
    });
    try {
      expect(await get("/readyz")).toEqual({ status: 503, body: { status: "database unreachable" } });
      expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    } finally {
      await withClient(admin, (c) => c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
    }
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready" } });
  });
});
