import { type Client as WsClient } from "graphql-ws";
import { type Client as PgClient } from "pg";
import WebSocket from "ws";
import { type TestApp, startTestApp } from "../support/harness";
import { Collector, connect, expectStrictlyIncreasing, pgClient, writeTransitions } from "./support";

const QUEUE_LIMIT = 300;
// Large messages (many aliases of one field), so the kernel's socket buffers fill after a few
// thousand transitions and the server's queue for the stalled client starts to grow.
const WIDE = `subscription($after: ID) { serviceFlagChanged(after: $after, filter: { networkOperator: "SLOW" }) {
  sequence ${Array.from({ length: 300 }, (_, i) => `p${i}: mpxn`).join(" ")} } }`;

/** A `ws` WebSocket whose reading can be paused: a client that stops reading, as a slow one does. */
class PausableWebSocket extends WebSocket {
  static last: PausableWebSocket | null = null;
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    PausableWebSocket.last = this;
  }
  private get tcp(): { pause(): void; resume(): void } {
    // ws keeps the TCP socket in a private field; pausing it stops reading, as a stalled peer would.
    return (this as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  }
  pauseReading() {
    this.tcp.pause();
  }
  resumeReading() {
    this.tcp.resume();
  }
}

describe("a slow subscriber (SPEC §6)", () => {
  let t: TestApp;
  let db: PgClient;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIPTION_QUEUE_LIMIT: String(QUEUE_LIMIT) });
    db = await pgClient(t.app.databaseUrl);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await db.end();
    await t.close();
  });

  it("is ended with SUBSCRIBER_TOO_SLOW past its bound while another keeps receiving everything, and resumes from its cursor", async () => {
    const start = (await writeTransitions(db, [{ mpxn: "4000000000000", networkOperator: "SLOW" }]))[0]!;
    const fastClient = connect(t.url, t.dccKey);
    const slowClient = connect(t.url, t.dccKey, { webSocketImpl: PausableWebSocket });
    clients.push(fastClient, slowClient);
    const fast = new Collector(fastClient, { after: start, filter: { networkOperator: "SLOW" } });
    const slow = new Collector(slowClient, { after: start }, WIDE);
    const written = await writeTransitions(db, [{ mpxn: "4000000000001", networkOperator: "SLOW" }]);
    await slow.until((c) => c.items.length === 1, 30000, "the first transition");
    const slowSocket = PausableWebSocket.last!;
    slowSocket.pauseReading();

    // Batches of 100 (below the bound), each written once the fast subscriber has the previous
    // one, until the server ends the stalled subscriber: first the kernel's socket buffers fill,
    // then its queue passes the bound. The fast one never waits for it.
    for (let i = 0; t.server.feed.stats().subscriptions > 1; i++) {
      if (i >= 300) throw new Error("expected the stalled subscriber to be ended within 30,000 transitions");
      written.push(
        ...(await writeTransitions(
          db,
          Array.from({ length: 100 }, (_, k) => ({
            mpxn: String(4000000010000 + i * 100 + k),
            networkOperator: "SLOW",
          })),
        )),
      );
      await fast.until((c) => c.items.length >= written.length, 30000, `${written.length} transitions`);
    }
    expect(fast.items.map((x) => x.sequence)).toEqual(written);
    expect(fast.completed).toBe(false);
    expect(slow.completed).toBe(false); // still stalled: it has not read the end yet

    slowSocket.resumeReading();
    await slow.until((c) => c.completed, 30000, "the slow subscription to end");
    expect(slow.errors?.[0]?.extensions?.code).toBe("SUBSCRIBER_TOO_SLOW");
    expect(slow.errors?.[0]?.message).toMatch(/resume with after/);
    expectStrictlyIncreasing(slow.items);
    expect(slow.items.length).toBeLessThan(written.length);

    // It resumes from its cursor and, with the prefix it had, holds every transition exactly once.
    const resumed = new Collector(slowClient, { after: slow.last }, WIDE);
    const missing = written.length - slow.items.length;
    await resumed.until((c) => c.items.length >= missing, 60000, `${missing} transitions`);
    expect([...slow.items, ...resumed.items].map((x) => x.sequence)).toEqual(written);
  });
});
