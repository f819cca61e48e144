import { type Client as WsClient } from "graphql-ws";
import { type Client as PgClient } from "pg";
import WebSocket from "ws";
import { type TestApp, startTestApp } from "../support/harness";
import { Collector, connect, pgClient, wsUrl, writeTransitions } from "./support";

const ALLOWED = "https://console.example";

/** A raw socket speaking graphql-transport-ws, for what the real client would never send. */
async function rawSocket(url: string, key: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(wsUrl(url), "graphql-transport-ws", { headers });
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on("message", (d) => messages.push(JSON.parse(String(d))));
  ws.on("close", (code, reason) => (closed = { code, reason: String(reason) }));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }));
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!cond())
      throw new Error(`expected ${what}; got ${JSON.stringify(messages)} closed ${JSON.stringify(closed)}`);
  };
  await until(() => messages.some((m) => m.type === "connection_ack"), "connection_ack");
  return { ws, messages, until, closed: () => closed };
}

/** Opens a socket and resolves with the HTTP status of a refused upgrade (or 101). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url), "graphql-transport-ws", { headers });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", (e) => {
      if (!String(e.message).includes("Unexpected server response")) reject(e);
    });
  });
}

describe("the WebSocket transport (graphql-transport-ws)", () => {
  let t: TestApp;
  let db: PgClient;
  const clients: WsClient[] = [];
  const open = (key: string | null = t.dccKey, onClosed?: (code: number, reason: string) => void) => {
    const c = connect(t.url, key, { onClosed });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp({ WS_ALLOWED_ORIGINS: ALLOWED, INTROSPECTION: "false", MAX_QUERY_DEPTH: "4" });
    db = await pgClient(t.app.databaseUrl);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  it.each([
    ["no key", null],
    ["an unknown key", "smi_unknownunknownunknownunknown00"],
  ])("closes the socket with 4401 on %s in connection_init", async (_what, key) => {
    const closed = new Promise<number>((resolve) => open(key, (code) => resolve(code)));
    expect(await closed).toBe(4401);
  });

  it("refuses an upgrade from a browser origin that is not allowed, accepts an allowed one and none", async () => {
    expect(await upgradeStatus(t.url, { origin: "https://evil.example" })).toBe(403);
    expect(await upgradeStatus(t.url, { origin: ALLOWED })).toBe(101);
    expect(await upgradeStatus(t.url, {})).toBe(101);
  });

  it("answers a syntax error with an error for that operation; the socket's other subscription carries on", async () => {
    const client = open();
    const start = (await writeTransitions(db, [{ mpxn: "3000000000001", networkOperator: "T1" }]))[0]!;
    const good = new Collector(client, { after: start, filter: { networkOperator: "T1" } });
    const bad = new Collector(client, {}, "subscription { serviceFlagChanged( { sequence }");
    await bad.until((c) => c.completed);
    expect(bad.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const later = await writeTransitions(db, [{ mpxn: "3000000000002", networkOperator: "T1" }]);
    await good.until((c) => c.items.length >= 1);
    expect(good.items.map((x) => x.sequence)).toEqual(later);
  });

  it("answers a subscribe message of the wrong shape with an error for its id, without closing the socket", async () => {
    const s = await rawSocket(t.url, t.dccKey);
    s.ws.send(JSON.stringify({ id: "x1", type: "subscribe", payload: { query: 42 } }));
    await s.until(() => s.messages.some((m) => m.id === "x1" && m.type === "error"), "an error for x1");
    const err = s.messages.find((m) => m.id === "x1")!.payload as { extensions: { code: string } }[];
    expect(err[0]!.extensions.code).toBe("BAD_REQUEST");
    // The socket still serves: a valid subscription on it gets its replay.
    const start = (await writeTransitions(db, [{ mpxn: "3000000000003", networkOperator: "T2" }]))[0]!;
    const next = await writeTransitions(db, [{ mpxn: "3000000000004", networkOperator: "T2" }]);
    s.ws.send(
      JSON.stringify({
        id: "x2",
        type: "subscribe",
        payload: {
          query:
            'subscription($a: ID) { serviceFlagChanged(after: $a, filter: { networkOperator: "T2" }) { sequence } }',
          variables: { a: start },
        },
      }),
    );
    await s.until(() => s.messages.some((m) => m.id === "x2" && m.type === "next"), "a next for x2");
    expect(s.messages.find((m) => m.id === "x2")!.payload).toEqual({
      data: { serviceFlagChanged: { sequence: next[0] } },
    });
    expect(s.closed()).toBeNull();
    s.ws.close();
  });

  it("masks an internal error in a pushed result exactly as HTTP does", async () => {
    const start = (await writeTransitions(db, [{ mpxn: "3000000000010", networkOperator: "T3" }]))[0]!;
    const sub = new Collector(
      open(),
      { after: start },
      `subscription($after: ID) { serviceFlagChanged(after: $after, filter: { networkOperator: "T3" }) { sequence meterPoint { mpxn } } }`,
    );
    // A transition naming a meter point that does not exist: its nested field fails inside the server.
    await writeTransitions(db, [{ mpxn: "3000000000011", networkOperator: "T3" }]);
    await sub.until((c) => c.errors !== null);
    expect(sub.errors).toEqual([
      expect.objectContaining({
        message: "Internal server error",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      }),
    ]);
    expect(JSON.stringify(sub.errors)).not.toContain("3000000000011");
  });

  it.each([
    ["a query (queries and mutations go over HTTP)", "{ serviceFlagCounts { count } }", "BAD_REQUEST"],
    ["an unknown field", "subscription { serviceFlagChanged { nope } }", "GRAPHQL_VALIDATION_FAILED"],
    [
      "introspection when it is off",
      "subscription { __schema { queryType { name } } }",
      "GRAPHQL_VALIDATION_FAILED",
    ],
    [
      "an operation deeper than the limit",
      "subscription { serviceFlagChanged { meterPoint { devices { meterPoints { devices { deviceId } } } } } }",
      "QUERY_TOO_COMPLEX",
    ],
  ])("refuses %s with an error for that operation", async (_what, query, code) => {
    const sub = new Collector(open(), {}, query);
    await sub.until((c) => c.completed);
    expect(sub.errors?.[0]?.extensions?.code).toBe(code);
  });
});
