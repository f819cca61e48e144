import { type Client as WsClient } from "graphql-ws";
import { type Client as PgClient } from "pg";
import { syntheticDeviceId, syntheticMpan } from "../../src/ingest/synthetic";
import { settle } from "../../src/subscriptions/settledHorizon";
import { type TestApp, startTestApp } from "../support/harness";
import { Collector, connect, pgClient, writeTransitions } from "./support";

describe("settle (the settled horizon, pure)", () => {
  it.each([
    [
      "nothing settles while the xmin has not passed the probe's id",
      [{ seqHigh: 10n, xid: 100n }],
      100n,
      null,
      1,
    ],
    ["a probe settles once the xmin passes its id", [{ seqHigh: 10n, xid: 100n }], 101n, 10n, 0],
    [
      "the newest settled probe gives the horizon; later ones wait",
      [
        { seqHigh: 10n, xid: 100n },
        { seqHigh: 15n, xid: 105n },
        { seqHigh: 20n, xid: 110n },
      ],
      106n,
      15n,
      1,
    ],
  ])("%s", (_what, probes, xmin, horizon, pending) => {
    const r = settle(probes, xmin);
    expect(r.horizon).toBe(horizon);
    expect(r.pending).toHaveLength(pending);
  });
});

describe("transactions committing out of sequence order (SPEC §6)", () => {
  let t: TestApp;
  let early: PgClient;
  let late: PgClient;
  let check: PgClient;
  let client: WsClient;

  beforeAll(async () => {
    t = await startTestApp();
    early = await pgClient(t.app.databaseUrl);
    late = await pgClient(t.app.databaseUrl);
    check = await pgClient(t.app.databaseUrl);
    client = connect(t.url, t.dccKey);
  });
  afterAll(async () => {
    await client?.dispose();
    await Promise.all([early, late, check].map((c) => c.end()));
    await t.close();
  });

  it("delivers every transition, in sequence order, when the writer holding the smaller sequence commits later", async () => {
    const start = (await writeTransitions(check, [{ mpxn: "5000000000000", networkOperator: "OOO" }]))[0]!;
    const sub = new Collector(client, { after: start, filter: { networkOperator: "OOO" } });
    let n = 1;
    const row = () => ({ mpxn: String(5000000000000 + n++), networkOperator: "OOO" });
    const rounds = 800;
    let overtaken = 0;
    for (let i = 0; i < rounds; i++) {
      // `late` draws the smaller sequence and holds its transaction open while `early` draws larger
      // ones and commits (and notifies); then `late` commits, or every tenth time rolls back.
      const heldOpen = writeTransitions(late, [row()], async (smaller) => {
        const larger = await writeTransitions(early, [row(), row()]);
        if (BigInt(larger[0]!) > BigInt(smaller[0]!)) overtaken++;
        // Give the feed a chance to see the larger ones committed while the smaller is pending.
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 30));
        if (i % 10 === 9) throw new Error("roll back");
      }).catch((e: Error) => {
        if (e.message !== "roll back") throw e;
      });
      await heldOpen;
    }
    expect(overtaken).toBe(rounds);
    const committed = (
      await check.query<{ s: string }>(
        "SELECT sequence::text AS s FROM service_flag_transition WHERE network_operator = 'OOO' AND sequence > $1 ORDER BY sequence",
        [start],
      )
    ).rows.map((r) => r.s);
    expect(committed.length).toBe(rounds * 2 + rounds * 0.9);
    await sub.until((c) => c.items.length >= committed.length, 60000, `${committed.length} transitions`);
    expect(sub.items.map((x) => x.sequence)).toEqual(committed);
  });

  it("delivers every transition of concurrent EventApplier batches, exactly once and in order", async () => {
    const start = (await writeTransitions(check, [{ mpxn: "5100000000000", networkOperator: "X" }]))[0]!;
    const sub = new Collector(client, { after: start, filter: { from: [null, "A"] } });
    const at = (m: number) => new Date(Date.parse("2026-03-01T09:00:00Z") + m * 60_000).toISOString();
    // Per meter point: registered, a meter commissioned (null → A), then decommissioned (A → N).
    const eventsOf = (i: number) => {
      const mpxn = syntheticMpan(10 + (i % 14), 500_000 + i);
      const deviceId = syntheticDeviceId(500_000 + i, 0);
      return [
        { eventId: `c${i}-1`, occurredAt: at(0), type: "MeterPointRegistered", mpxn, supplier: "EDFE" },
        {
          eventId: `c${i}-2`,
          occurredAt: at(1),
          type: "DeviceRegistered",
          deviceId,
          deviceType: "ESME",
          smets: "SMETS2",
        },
        { eventId: `c${i}-3`, occurredAt: at(2), type: "DeviceAssociated", deviceId, mpxn, role: "Import" },
        {
          eventId: `c${i}-4`,
          occurredAt: at(3),
          type: "DeviceStatusChanged",
          deviceId,
          status: "Commissioned",
        },
        {
          eventId: `c${i}-5`,
          occurredAt: at(4),
          type: "DeviceStatusChanged",
          deviceId,
          status: "Decommissioned",
        },
      ];
    };
    // Four writers, each applying small batches concurrently with the others.
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let b = 0; b < 40; b++) {
        const batch = [0, 1, 2, 3, 4].flatMap((k) => eventsOf(w * 1000 + b * 5 + k));
        const r = await t.app.applier.applyRaw(batch);
        if (r.rejected.length > 0)
          throw new Error(`expected no rejection, got ${JSON.stringify(r.rejected[0])}`);
      }
    });
    await Promise.all(writers);
    const committed = (
      await check.query<{ s: string }>(
        "SELECT sequence::text AS s FROM service_flag_transition WHERE sequence > $1 AND (from_flag IS NULL OR from_flag = 'A') ORDER BY sequence",
        [start],
      )
    ).rows.map((r) => r.s);
    expect(committed.length).toBe(4 * 40 * 5 * 2);
    await sub.until((c) => c.items.length >= committed.length, 60000, `${committed.length} transitions`);
    expect(sub.items.map((x) => x.sequence)).toEqual(committed);
  });
});
