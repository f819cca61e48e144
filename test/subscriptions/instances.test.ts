import http from "node:http";
import { type Client as WsClient } from "graphql-ws";
import { type Client as PgClient } from "pg";
import { Role } from "../../src/domain/access";
import { createDataSource, migrate } from "../../src/persistence/dataSource";
import { ApiKeyStore } from "../../src/persistence/apiKeyStore";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { APPLY_EVENTS, toEventInput } from "../support/events";
import { PrivatePostgres, ServerProcess } from "./processes";
import {
  Collector,
  type Received,
  SUBSCRIBE,
  connect,
  expectStrictlyIncreasing,
  pgClient,
  sleep,
  writeTransitions,
} from "./support";

/**
 * Two real server processes (`smi-gateway serve`) on one PostgreSQL of this file's own, so that
 * it can be restarted: across instances, resume after an instance dies and after the database
 * restarts, and the SIGTERM drain.
 */

/** A subscriber that, whenever its subscription ends, resumes with after = the last sequence it has. */
class ResumingSubscriber {
  readonly items: Received[] = [];
  resumes = 0;
  private client: WsClient | null = null;
  private stopped = false;
  constructor(
    private readonly key: string,
    private readonly urlOf: () => string,
    private readonly filter: Record<string, unknown>,
    private after: string,
  ) {}

  start(): void {
    if (this.stopped) return;
    const client = connect(this.urlOf(), this.key);
    this.client = client;
    let ended = false;
    const again = () => {
      if (ended) return;
      ended = true;
      void client.dispose();
      if (this.stopped) return;
      this.resumes++;
      setTimeout(() => this.start(), 100);
    };
    client.subscribe<{ serviceFlagChanged: Received }>(
      { query: SUBSCRIBE, variables: { filter: this.filter, after: this.after } },
      {
        next: (r) => {
          const t = r.data?.serviceFlagChanged;
          if (t) {
            this.items.push(t);
            this.after = t.sequence;
          }
          if (r.errors) again();
        },
        error: again,
        complete: again,
      },
    );
  }

  async until(cond: () => boolean, what: string, ms = 60000): Promise<void> {
    for (let waited = 0; !cond(); waited += 20) {
      if (waited > ms)
        throw new Error(
          `expected ${what} within ${ms} ms; have ${this.items.length} items, ${this.resumes} resumes`,
        );
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.dispose();
  }
}

/** Writes transitions in small transactions until stopped, reconnecting through database restarts. */
class StreamWriter {
  private stopped = false;
  private done: Promise<void> | null = null;
  private n = 0;
  failures = 0;
  constructor(
    private readonly url: string,
    private readonly networkOperator: string,
  ) {}

  start(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let c: PgClient | null = null;
    while (!this.stopped) {
      try {
        if (!c) {
          c = await pgClient(this.url);
          c.on("error", () => undefined);
        }
        await writeTransitions(
          c,
          Array.from({ length: 5 }, () => ({
            mpxn: String(6000000000000 + this.n++),
            networkOperator: this.networkOperator,
          })),
        );
        await sleep(20);
      } catch {
        this.failures++;
        await c?.end().catch(() => undefined);
        c = null;
        await sleep(100);
      }
    }
    await c?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe("subscriptions across server processes (SPEC §6)", () => {
  let pg: PrivatePostgres;
  let url: string;
  let key: string;
  let db: PgClient;
  const servers: ServerProcess[] = [];
  const serve = async () => {
    const s = await ServerProcess.start({ DATABASE_URL: url, SUBSCRIPTION_POLL_MS: "200" });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    const admin = await pgClient(pg.url);
    await admin.query("CREATE DATABASE smi");
    await admin.end();
    url = pg.url.replace(/\/postgres$/, "/smi");
    const ds = createDataSource({ url, poolSize: 2 });
    await ds.initialize();
    await migrate(ds);
    key = (await new ApiKeyStore(ds).create({ role: Role.DCC, party: null }, "subscription test")).key;
    await ds.destroy();
    db = await pgClient(url);
    db.on("error", () => undefined);
    await Promise.all([serve(), serve()]);
  }, 60000);

  afterAll(async () => {
    for (const s of servers) s.kill("SIGKILL");
    await db.end().catch(() => undefined);
    pg.destroy();
  });

  it("pushes a transition applied through instance 1 to a subscriber on instance 2", async () => {
    const [one, two] = servers;
    const client = connect(two!.url, key);
    try {
      const start = (await writeTransitions(db, [{ mpxn: "6900000000000", networkOperator: "X" }]))[0]!;
      const mpan = syntheticMpan(23, 1);
      const sub = new Collector(client, { after: start, filter: { mpxns: [mpan] } });
      const at = (m: number) => new Date(Date.parse("2026-03-01T09:00:00Z") + m * 60_000).toISOString();
      const events = [
        { eventId: "x1", occurredAt: at(0), type: "MeterPointRegistered", mpxn: mpan, supplier: "EDFE" },
        {
          eventId: "x2",
          occurredAt: at(1),
          type: "DeviceRegistered",
          deviceId: "00-00-00-00-00-00-00-01",
          deviceType: "ESME",
          smets: "SMETS2",
        },
        {
          eventId: "x3",
          occurredAt: at(2),
          type: "DeviceAssociated",
          deviceId: "00-00-00-00-00-00-00-01",
          mpxn: mpan,
          role: "Import",
        },
        {
          eventId: "x4",
          occurredAt: at(3),
          type: "DeviceStatusChanged",
          deviceId: "00-00-00-00-00-00-00-01",
          status: "Commissioned",
        },
      ];
      const res = await fetch(one!.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: APPLY_EVENTS, variables: { events: events.map(toEventInput) } }),
      });
      const body = (await res.json()) as { data: { applyEvents: { transitions: { sequence: string }[] } } };
      const applied = body.data.applyEvents.transitions.map((x) => x.sequence);
      expect(applied).toHaveLength(1);
      await sub.until((c) => c.items.length >= 1);
      expect(sub.items.map((x) => [x.sequence, x.mpxn, x.to])).toEqual([[applied[0], mpan, "A"]]);
    } finally {
      await client.dispose();
    }
  });

  it("loses, repeats and reorders nothing when instances die and the database restarts mid-stream, resuming with after", async () => {
    const [one, two] = servers;
    let preferred = two!;
    let fallback = one!;
    const alive = new Set<ServerProcess>([one!, two!]);
    const urlOf = () => (alive.has(preferred) ? preferred.url : fallback.url);
    const start = (await writeTransitions(db, [{ mpxn: "6000000000000", networkOperator: "STREAM" }]))[0]!;
    const writer = new StreamWriter(url, "STREAM");
    const sub = new ResumingSubscriber(key, urlOf, { networkOperator: "STREAM" }, start);
    writer.start();
    sub.start();
    try {
      await sub.until(() => sub.items.length >= 200, "200 transitions on instance 2");

      // Instance 2 dies: the subscriber resumes on instance 1.
      two!.kill("SIGKILL");
      alive.delete(two!);
      await two!.exited();
      let mark = sub.items.length;
      await sub.until(() => sub.resumes >= 1 && sub.items.length >= mark + 200, "200 more on instance 1");

      // Instance 2 comes back; instance 1 dies: the subscriber resumes on the new instance 2.
      const three = await serve();
      preferred = three;
      alive.add(three);
      const resumesBefore = sub.resumes;
      one!.kill("SIGKILL");
      alive.delete(one!);
      fallback = three;
      await one!.exited();
      mark = sub.items.length;
      await sub.until(
        () => sub.resumes > resumesBefore && sub.items.length >= mark + 200,
        "200 more on the new instance",
      );

      // The database crashes and restarts under the stream.
      pg.stop("immediate");
      await sleep(300);
      pg.start();
      mark = sub.items.length;
      await sub.until(() => sub.items.length >= mark + 300, "300 more after the database restart");
    } finally {
      await writer.stop();
    }
    expect(writer.failures).toBeGreaterThan(0); // the writer did see the database go away
    const committed = (
      await (async () => {
        const c = await pgClient(url);
        try {
          return await c.query<{ s: string }>(
            "SELECT sequence::text AS s FROM service_flag_transition WHERE network_operator = 'STREAM' AND sequence > $1 ORDER BY sequence",
            [start],
          );
        } finally {
          await c.end();
        }
      })()
    ).rows.map((r) => r.s);
    await sub.until(
      () => sub.items.length >= committed.length,
      `all ${committed.length} committed transitions`,
    );
    await sub.stop();
    expectStrictlyIncreasing(sub.items);
    expect(sub.items.map((x) => x.sequence)).toEqual(committed);
  }, 180000);

  it("drains on SIGTERM: an in-flight request completes, sockets close with 1001, the process exits 0", async () => {
    const s = await serve();
    let acknowledged!: () => void;
    const connected = new Promise<void>((r) => (acknowledged = r));
    const closed = new Promise<number>((resolve) => {
      const c = connect(s.url, key, { onClosed: (code) => resolve(code), onConnected: acknowledged });
      new Collector(c, { filter: { networkOperator: "NONE" } });
    });
    await connected;
    const body = JSON.stringify({ query: "{ serviceFlagCounts { serviceFlag count } }" });
    const u = new URL(s.url);
    let requestStarted!: () => void;
    const started = new Promise<void>((r) => (requestStarted = r));
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            authorization: `Bearer ${key}`,
          },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += String(d)));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.on("socket", (sock) => sock.once("connect", () => setTimeout(requestStarted, 200)));
      // Half the body now: the request is in flight when SIGTERM arrives.
      req.write(body.slice(0, 10));
      void closed.then(() => req.end(body.slice(10)));
    });
    // Connected and its headers sent (with time for the server to read them) before the signal.
    await started;
    s.kill("SIGTERM");
    expect(await closed).toBe(1001);
    const r = await response;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).data.serviceFlagCounts).toHaveLength(4);
    expect(await s.exited()).toBe(0);
  });
});
