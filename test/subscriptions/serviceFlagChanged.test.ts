import { type Client as WsClient } from "graphql-ws";
import { type Client as PgClient } from "pg";
import { Role } from "../../src/domain/access";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { applyEvents } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";
import { Collector, connect, expectStrictlyIncreasing, pgClient, writeTransitions } from "./support";

const MPAN = "1312345678907";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";
const at = (minute: number) => new Date(Date.parse("2026-03-01T09:00:00Z") + minute * 60_000).toISOString();

describe("serviceFlagChanged (SPEC §6)", () => {
  let t: TestApp;
  let db: PgClient;
  const clients: WsClient[] = [];
  const open = (key: string | null = t.dccKey) => {
    const c = connect(t.url, key);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp();
    db = await pgClient(t.app.databaseUrl);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await waitFor(() => t.server.feed.stats().subscriptions === 0, "every subscription to end");
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  it("pushes the transitions an applied batch causes, live, in sequence order", async () => {
    const sub = new Collector(open(), { filter: { mpxns: [MPAN] } });
    await waitLive(t, 1);
    const r = await applyEvents(t, [
      { eventId: "l1", occurredAt: at(0), type: "MeterPointRegistered", mpxn: MPAN, supplier: "EDFE" },
      {
        eventId: "l2",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: DEV,
        deviceType: "ESME",
        smets: "SMETS2",
      },
      {
        eventId: "l3",
        occurredAt: at(2),
        type: "DeviceAssociated",
        deviceId: DEV,
        mpxn: MPAN,
        role: "Import",
      },
      {
        eventId: "l4",
        occurredAt: at(3),
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Commissioned",
      },
      { eventId: "l5", occurredAt: at(4), type: "DeviceDisassociated", deviceId: DEV, mpxn: MPAN },
    ]);
    expect(r.transitions.map((x) => [x.from, x.to])).toEqual([
      [null, "A"],
      ["A", "N"],
    ]);
    await sub.until((c) => c.items.length >= 2, 30000, "two transitions");
    expect(sub.items.map((x) => x.sequence)).toEqual(r.transitions.map((x) => x.sequence));
    expect(sub.items.map((x) => [x.mpxn, x.from, x.to])).toEqual([
      [MPAN, null, "A"],
      [MPAN, "A", "N"],
    ]);
  });

  it("with after, replays every later matching transition, then continues live with no gap and no duplicate", async () => {
    const before = await writeTransitions(db, rows(300, "R"));
    const after = before[99]!; // replay the last 200 of these
    const sub = new Collector(open(), { after, filter: { networkOperator: "R" } });
    // More transitions while it replays (in pages of its queue) and after it has gone live.
    const during: string[] = [];
    for (let i = 0; i < 5; i++) during.push(...(await writeTransitions(db, rows(60, "R"))));
    const expected = [...before.slice(100), ...during];
    await sub.until((c) => c.items.length >= expected.length, 30000, `${expected.length} transitions`);
    const more = await writeTransitions(db, rows(10, "R"));
    await sub.until((c) => c.items.length >= expected.length + 10, 30000, "the live tail");
    expect(sub.items.map((x) => x.sequence)).toEqual([...expected, ...more]);
    expectStrictlyIncreasing(sub.items);
  });

  it("without after, starts live: nothing from before the subscription", async () => {
    const old = await writeTransitions(db, rows(5, "NOW"));
    await waitFor(
      () => BigInt(t.server.feed.stats().position ?? 0) >= BigInt(old[4]!),
      "the feed to pass them",
    );
    const sub = new Collector(open(), { filter: { networkOperator: "NOW" } });
    await waitLive(t, 1);
    const fresh = await writeTransitions(db, rows(3, "NOW"));
    await sub.until((c) => c.items.length >= 3);
    expect(sub.items.map((x) => x.sequence)).toEqual(fresh);
  });

  it("scopes a network operator to its network and a supplier to its meter points, whatever filter they send", async () => {
    const noKey = await t.createKey(Role.NETWORK_OPERATOR, "NETA");
    const supKey = await t.createKey(Role.SUPPLIER, "SUPA");
    const start = (await writeTransitions(db, [{ mpxn: "1000000000001", networkOperator: "NETA" }]))[0]!;
    const noOwn = new Collector(open(noKey), { after: start });
    const noOther = new Collector(open(noKey), { after: start, filter: { networkOperator: "NETB" } });
    const supOwn = new Collector(open(supKey), { after: start });
    const dcc = new Collector(open(), { after: start });
    const written = await writeTransitions(db, [
      { mpxn: "1000000000002", networkOperator: "NETA", supplier: "SUPB" },
      { mpxn: "1000000000003", networkOperator: "NETB", supplier: "SUPA" },
      { mpxn: "1000000000004", networkOperator: "NETA", supplier: "SUPA" },
      { mpxn: "1000000000005", networkOperator: "NETB", supplier: "SUPB" },
    ]);
    await dcc.until((c) => c.items.length >= 4);
    await noOwn.until((c) => c.items.length >= 2);
    await supOwn.until((c) => c.items.length >= 2);
    // A marker only DCC and NETA see, after everything else: once NETA has it, nothing else is coming.
    const marker = await writeTransitions(db, [
      { mpxn: "1000000000006", networkOperator: "NETA", supplier: "SUPA" },
    ]);
    await noOwn.until((c) => c.last === marker[0]);
    await supOwn.until((c) => c.last === marker[0]);
    expect(noOwn.items.map((x) => x.mpxn)).toEqual(["1000000000002", "1000000000004", "1000000000006"]);
    expect(supOwn.items.map((x) => x.mpxn)).toEqual(["1000000000003", "1000000000004", "1000000000006"]);
    expect(noOther.items).toEqual([]);
    expect(dcc.items.slice(0, 4).map((x) => x.sequence)).toEqual(written);
  });

  it("refuses a comparison site with FORBIDDEN", async () => {
    const key = await t.createKey(Role.COMPARISON_SITE);
    const sub = new Collector(open(key));
    await sub.until((c) => c.completed);
    expect(sub.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(sub.items).toEqual([]);
  });

  it("narrows by the client's filter (mpxns, to)", async () => {
    const [m1, m2] = [syntheticMpan(10, 11), syntheticMpan(10, 12)];
    const start = (await writeTransitions(db, [{ mpxn: m1 }]))[0]!;
    const byMpxn = new Collector(open(), { after: start, filter: { mpxns: [m1] } });
    const byTo = new Collector(open(), { after: start, filter: { networkOperator: "F", to: ["N"] } });
    await writeTransitions(db, [
      { mpxn: m1, networkOperator: "F", to: "A" },
      { mpxn: m2, networkOperator: "F", from: "A", to: "N" },
      { mpxn: m1, networkOperator: "F", from: "A", to: "N" },
    ]);
    await byMpxn.until((c) => c.items.length >= 2);
    await byTo.until((c) => c.items.length >= 2);
    expect(byMpxn.items.map((x) => [x.mpxn, x.to])).toEqual([
      [m1, "A"],
      [m1, "N"],
    ]);
    expect(byTo.items.map((x) => [x.mpxn, x.to])).toEqual([
      [m2, "N"],
      [m1, "N"],
    ]);
  });

  it("answers bad arguments with BAD_USER_INPUT for that operation", async () => {
    const sub = new Collector(open(), { after: "not-a-cursor" });
    await sub.until((c) => c.completed);
    expect(sub.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

/** Polls a condition (a hang guard: fails after 30 s). */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${what} within 30 s`);
}

/** Waits until the server holds `n` live subscriptions (so that "live" tests write after subscribing). */
async function waitLive(t: TestApp, n: number): Promise<void> {
  await waitFor(() => t.server.feed.stats().liveSubscriptions >= n, `${n} live subscriptions`);
}

let counter = 0;
function rows(n: number, networkOperator: string) {
  return Array.from({ length: n }, () => ({
    mpxn: String(2000000000000 + counter++),
    networkOperator,
  }));
}
