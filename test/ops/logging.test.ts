import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { type App, openApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type RunningServer, startServer } from "../../src/graphql/server";
import { createLogger } from "../../src/logger";
import { parseRequestId } from "../../src/observability/requestScope";
import { ApiKeyStore } from "../../src/persistence/apiKeyStore";
import { createTestDatabase } from "../support/harness";

const BIN = path.resolve(__dirname, "../../bin/smi-gateway.js");
type LogLine = Record<string, unknown> & { msg?: string; requestId?: string };

describe("request ids and structured logs", () => {
  let db: { url: string; drop(): Promise<void> };
  let app: App;
  let server: RunningServer;
  let key: string;
  let keyId: string;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const log = createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
    app = await openApp(loadConfig({ NODE_ENV: "test" }), log, { databaseUrl: db.url, migrate: false });
    server = await startServer(app, { port: 0, host: "127.0.0.1" });
    const created = await new ApiKeyStore(app.ds).create(
      { role: "DCC" as never, party: null },
      "logging test",
    );
    key = created.key;
    keyId = created.record.id;
  });
  afterAll(async () => {
    await server.stop();
    await app.close();
    await db.drop();
  });

  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ query }),
    });

  it("gives each request a new id, returns it in X-Request-Id and logs the request with it", async () => {
    const a = await post("query Counts { serviceFlagCounts { count } }");
    const b = await post("{ serviceFlagCounts { count } }");
    const ida = a.headers.get("x-request-id");
    const idb = b.headers.get("x-request-id");
    expect(ida).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idb).not.toBe(ida);
    expect(lines.find((l) => l.msg === "request" && l.requestId === ida)).toMatchObject({
      level: 30,
      service: "smi-gateway",
      method: "POST",
      path: "/graphql",
      status: 200,
      durationMs: expect.any(Number),
      operation: "Counts",
      keyId,
    });
    expect(lines.find((l) => l.msg === "request" && l.requestId === idb)).toMatchObject({
      operation: "__anonymous",
    });
  });

  it("keeps a plausible incoming X-Request-Id and replaces one that is not", async () => {
    const kept = await post("{ serviceFlagCounts { count } }", { "x-request-id": "lb-7f3a.42" });
    expect(kept.headers.get("x-request-id")).toBe("lb-7f3a.42");
    const replaced = await post("{ serviceFlagCounts { count } }", {
      "x-request-id": "has spaces\tand tabs",
    });
    expect(replaced.headers.get("x-request-id")).not.toBe("has spaces\tand tabs");
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseRequestId("x".repeat(129))).toBeNull();
    expect(parseRequestId(["first", "second"])).toBe("first");
  });

  it("adds the request id to every line logged while serving the request, e.g. a masked internal error", async () => {
    await app.ds.query("ALTER TABLE meter_point RENAME TO meter_point_away");
    try {
      const res = await post(`{ meterPoint(mpxn: "1312345678907") { serviceFlag } }`, {
        "x-request-id": "trace-internal-1",
      });
      const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      expect(body.errors?.[0]).toMatchObject({
        message: "Internal server error",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      });
    } finally {
      await app.ds.query("ALTER TABLE meter_point_away RENAME TO meter_point");
    }
    const logged = lines.filter((l) => l.requestId === "trace-internal-1");
    expect(logged.map((l) => l.msg)).toEqual(["internal error in a GraphQL operation", "request"]);
    expect(JSON.stringify(logged[0])).toMatch(/meter_point/);
  });

  it("logs probes at debug level, with the request id", async () => {
    const res = await fetch(new URL("/healthz", server.url), { headers: { "x-request-id": "probe-1" } });
    expect(res.headers.get("x-request-id")).toBe("probe-1");
    expect(lines.find((l) => l.requestId === "probe-1")).toMatchObject({
      level: 20,
      path: "/healthz",
      status: 200,
    });
  });

  it("redacts keys and connection strings handed to the logger", () => {
    const out: string[] = [];
    const log = createLogger("info", { write: (s: string) => void out.push(s) });
    log.info(
      {
        req: { headers: { authorization: "Bearer sk_live_secret1" } },
        headers: { authorization: "Bearer sk_live_secret2", cookie: "session=secret3" },
        apiKey: "sk_live_secret4",
        databaseUrl: "postgres://u:secret5@h/db",
        config: { DATABASE_URL: "postgres://u:secret6@h/db" },
      },
      "something",
    );
    expect(out.join("")).not.toMatch(/secret\d/);
    expect(out.join("")).toMatch(/\[redacted\]/);
  });
});

describe("the serve process's logs", () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Starts `node bin/smi-gateway.js serve` on a free port and resolves with its URL once ready. */
  function serve(
    env: Record<string, string>,
  ): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const child = spawn(process.execPath, [BIN, "serve"], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    return new Promise((resolve, reject) => {
      child.stdout!.on("data", () => {
        const m = /smi-gateway ready: (http:\/\/\S+)/.exec(out);
        if (m) resolve({ child, url: m[1]!, output: () => out });
      });
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    });
  }

  it("never writes an API key, the Authorization header or the database password, even at trace level", async () => {
    const env = {
      DATABASE_URL: db.url,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "trace",
      NODE_ENV: "production",
    };
    const created = spawnSync(process.execPath, [BIN, "keys", "create", "--role", "DCC", "--party", "DCC"], {
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    });
    expect(created.status).toBe(0);
    const key = created.stdout.trim().split("\n").pop()!;
    expect(key.length).toBeGreaterThan(20);

    const { child, url, output } = await serve(env);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const ok = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: "{ serviceFlagCounts { count } }" }),
      });
      expect(ok.status).toBe(200);
      const unknown = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk_not_a_key_but_secret_777" },
        body: JSON.stringify({ query: "{ serviceFlagCounts { count } }" }),
      });
      expect(unknown.status).toBe(401);
      await fetch(new URL("/healthz", url), { headers: { authorization: `Bearer ${key}` } });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);

    const logs = output();
    const password = decodeURIComponent(new URL(db.url).password);
    const requestLines = logs.split("\n").filter((l) => l.includes('"msg":"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(3);
    for (const l of requestLines) expect(JSON.parse(l)).toMatchObject({ requestId: expect.any(String) });
    expect(logs).not.toContain(key);
    expect(logs).not.toContain("sk_not_a_key_but_secret_777");
    expect(logs.toLowerCase()).not.toContain("bearer ");
    if (password) expect(logs).not.toContain(password);
  });
});
