import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { Readable } from "node:stream";
import { ingestStream, openInput } from "../../src/ingest/ingestStream";
import { buildDecisionVectors } from "../../src/ingest/decisionVectors";
import { generateSeedEvents } from "../../src/ingest/seed";
import { COPY_THRESHOLD } from "../../src/persistence/inventoryStore";
import { digestState, openTestApp, queryRows, writeNdjson } from "./support";

/**
 * `ingest FILE` applies exactly what `applyEvents` applies: the same rules (one working set), the
 * same per-event outcomes, the same stored state, whether rows go in by COPY (bulk batches) or by
 * unnest statements (small batches).
 */
const MPAN = "1312345678907";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";

function corpus(): Record<string, string>[] {
  const events: Record<string, string>[] = [];
  for (const v of buildDecisionVectors("ing-vector")) events.push(...v.events);
  events.push(...generateSeedEvents({ meterPoints: 1500, prefix: "ing" }));
  return events;
}

describe("ingest FILE", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "smi-ingest-test-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stores exactly what the live door stores for the same events, and re-ingesting changes nothing", async () => {
    const events = corpus();
    expect(events.length).toBeGreaterThan(COPY_THRESHOLD * 4); // bulk batches take the COPY path
    const file = path.join(dir, "corpus.ndjson");
    await writeNdjson(file, events);

    const bulk = await openTestApp();
    const live = await openTestApp();
    try {
      const s = await ingestStream(openInput(file), bulk.app.applier, { batchSize: 5000 });
      expect(s).toMatchObject({ lines: events.length, applied: events.length, duplicates: 0, rejected: 0 });

      let transitions = 0;
      for (let i = 0; i < events.length; i += 100) {
        const o = await live.app.applier.applyRaw(events.slice(i, i + 100));
        expect(o.rejected).toEqual([]);
        transitions += o.transitions.length;
      }
      expect(s.transitions).toBe(transitions);
      expect(await digestState(bulk.url)).toEqual(await digestState(live.url));

      const before = await digestState(bulk.url);
      const again = await ingestStream(openInput(file), bulk.app.applier, { batchSize: 777 });
      expect(again).toMatchObject({ applied: 0, duplicates: events.length, rejected: 0, transitions: 0 });
      expect(await digestState(bulk.url)).toEqual(before);
    } finally {
      await bulk.close();
      await live.close();
    }
  });

  it("skips the applied-event look-up while a bulk input brings only new events, and converges when one was applied", async () => {
    const events = [...generateSeedEvents({ meterPoints: 1500, prefix: "opt" })];
    const head = 2500;
    expect(events.length).toBeGreaterThan(head + 3000);
    const [part, whole] = [path.join(dir, "opt-part.ndjson"), path.join(dir, "opt-whole.ndjson")];
    await writeNdjson(part, events.slice(0, head));
    await writeNdjson(whole, events);

    const clean = await openTestApp();
    const twice = await openTestApp();
    try {
      await ingestStream(openInput(whole), clean.app.applier, { batchSize: 1000 });
      const first = await ingestStream(openInput(part), twice.app.applier, { batchSize: 1000 });
      expect(first).toMatchObject({ applied: head, duplicates: 0 });
      // Batch 1 looked up its ids and found none applied, so batch 2 skipped the look-up.
      expect(twice.app.applier.stats).toEqual({ lookUpsSkipped: 1, lookUpsSkippedInVain: 0 });

      // The whole file after its first part: the first batch skips the look-up, meets applied ids
      // at the primary key, rolls back and is redone with the look-up; nothing is applied twice.
      const rest = await ingestStream(openInput(whole), twice.app.applier, { batchSize: 1000 });
      expect(rest).toMatchObject({ applied: events.length - head, duplicates: head, rejected: 0 });
      expect(twice.app.applier.stats.lookUpsSkippedInVain).toBe(1);
      expect(twice.app.applier.stats.lookUpsSkipped).toBeGreaterThan(2);
      expect(await digestState(twice.url)).toEqual(await digestState(clean.url));
    } finally {
      await clean.close();
      await twice.close();
    }
  });

  it("rejects malformed and invalid lines with line number, code and message, and applies the lines around them", async () => {
    const t = await openTestApp();
    const rejects = path.join(dir, "rejects.ndjson");
    const lines = [
      JSON.stringify({
        eventId: "m1",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: MPAN,
      }),
      "{ this is not json",
      JSON.stringify({
        eventId: "m2",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: "1312345678900",
      }),
      "",
      JSON.stringify({
        eventId: "d1",
        occurredAt: "2026-03-02T10:00:00Z",
        type: "DeviceRegistered",
        deviceId: DEV,
        deviceType: "ESME",
      }),
      JSON.stringify({
        eventId: "s0",
        occurredAt: "2026-03-02T10:00:00Z",
        type: "DeviceStatusChanged",
        deviceId: "00-00-00-00-00-00-00-01",
        status: "Commissioned",
      }),
      JSON.stringify({
        eventId: "a1",
        occurredAt: "2026-03-02T10:01:00Z",
        type: "DeviceAssociated",
        deviceId: DEV,
        mpxn: MPAN,
      }),
      JSON.stringify({
        eventId: "s1",
        occurredAt: "2026-03-02T10:02:00Z",
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Commissioned",
      }),
      JSON.stringify({
        eventId: "s2",
        occurredAt: "2026-03-02T09:00:00Z",
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Decommissioned",
      }),
      JSON.stringify({
        eventId: "s3",
        occurredAt: "2026-03-03T09:00:00Z",
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Decommissioned",
      }),
      "[1, 2]",
    ];
    try {
      const s = await ingestStream(Readable.from([lines.join("\n")]), t.app.applier, {
        batchSize: 3,
        rejectsPath: rejects,
      });
      expect(s).toMatchObject({
        lines: 11,
        applied: 5,
        duplicates: 0,
        rejected: 5,
        rejectedByCode: { INVALID_EVENT: 2, INVALID_MPXN: 1, UNKNOWN_DEVICE: 1, STALE_EVENT: 1 },
        transitions: 2, // null → A (s1), A → N (s3)
      });
      const written = readFileSync(rejects, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { line: number; eventId: string; code: string; message: string });
      expect(written.map((r) => [r.line, r.eventId, r.code])).toEqual([
        [2, "line 2", "INVALID_EVENT"],
        [3, "m2", "INVALID_MPXN"],
        [6, "s0", "UNKNOWN_DEVICE"],
        [9, "s2", "STALE_EVENT"],
        [11, "line 11", "INVALID_EVENT"],
      ]);
      expect(written[0]!.message).toMatch(/expected one JSON object per line, got malformed JSON/);
      expect(written[3]!.message).toMatch(/expected occurredAt at or after 2026-03-02T10:02:00.000Z/);
      expect(written[4]!.message).toMatch(/expected an event object, got/);
      const flags = await queryRows<{ service_flag: string }>(t.url, "SELECT service_flag FROM meter_point");
      expect(flags).toEqual([{ service_flag: "N" }]);
    } finally {
      await t.close();
    }
  });

  it("applies a batch in its own order, recording null→A then A→N for one MPxN in one batch", async () => {
    const t = await openTestApp();
    try {
      const events = [
        {
          eventId: "r",
          occurredAt: "2026-03-02T10:00:00Z",
          type: "DeviceRegistered",
          deviceId: DEV,
          deviceType: "ESME",
        },
        {
          eventId: "a",
          occurredAt: "2026-03-02T10:01:00Z",
          type: "DeviceAssociated",
          deviceId: DEV,
          mpxn: MPAN,
        },
        {
          eventId: "c",
          occurredAt: "2026-03-02T10:02:00Z",
          type: "DeviceStatusChanged",
          deviceId: DEV,
          status: "Commissioned",
        },
        {
          eventId: "d",
          occurredAt: "2026-03-02T10:03:00Z",
          type: "DeviceStatusChanged",
          deviceId: DEV,
          status: "Decommissioned",
        },
      ];
      const s = await ingestStream(
        Readable.from([events.map((e) => JSON.stringify(e)).join("\n")]),
        t.app.applier,
        {
          batchSize: 100,
        },
      );
      expect(s.transitions).toBe(2);
      const ts = await queryRows<{ from_flag: string | null; to_flag: string; cause_event_id: string }>(
        t.url,
        "SELECT from_flag, to_flag, cause_event_id FROM service_flag_transition ORDER BY sequence",
      );
      expect(ts).toEqual([
        { from_flag: null, to_flag: "A", cause_event_id: "c" },
        { from_flag: "A", to_flag: "N", cause_event_id: "d" },
      ]);
    } finally {
      await t.close();
    }
  });
});
