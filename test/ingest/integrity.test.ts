import { generateSeedEvents } from "../../src/ingest/seed";
import { openTestApp, queryRows } from "./support";

/**
 * The history tables (`device_status_change`, `device_association`) have no foreign keys since
 * migration 1764400000000-IngestTuning: the working set is their only writer and guarantees what
 * the keys used to check. These tests hold it to that: an event naming an unknown device writes
 * nothing, and no history row of a mixed ingest (rejections, implicit meter point registrations,
 * concurrent batches creating the same device) refers to a missing device or meter point.
 */
const MPAN = "1312345678907";
const MPRN = "1234567890";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";
const GAS_DEV = "BC-33-AC-FF-FE-FA-55-3E";

const ORPHANS = `
  SELECT (SELECT count(*) FROM device_status_change c
           WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.device_id = c.device_id))::int AS status_changes,
         (SELECT count(*) FROM device_association a
           WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.device_id = a.device_id))::int AS association_devices,
         (SELECT count(*) FROM device_association a
           WHERE NOT EXISTS (SELECT 1 FROM meter_point p WHERE p.mpxn = a.mpxn))::int AS association_meter_points`;

describe("referential integrity of the history tables", () => {
  it("has no foreign keys left on the history tables (the application checks instead)", async () => {
    const t = await openTestApp();
    try {
      const fks = await queryRows<{ conname: string }>(
        t.url,
        `SELECT conname FROM pg_constraint
          WHERE contype = 'f' AND conrelid IN ('device_status_change'::regclass, 'device_association'::regclass)`,
      );
      expect(fks).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("rejects events naming an unknown device and writes no history row for them", async () => {
    const t = await openTestApp();
    try {
      const o = await t.app.applier.applyRaw([
        {
          eventId: "u1",
          occurredAt: "2026-03-01T09:00:00Z",
          type: "DeviceStatusChanged",
          deviceId: DEV,
          status: "Commissioned",
        },
        {
          eventId: "u2",
          occurredAt: "2026-03-01T09:00:00Z",
          type: "DeviceAssociated",
          deviceId: DEV,
          mpxn: MPAN,
        },
        {
          eventId: "u3",
          occurredAt: "2026-03-01T09:00:00Z",
          type: "DeviceDisassociated",
          deviceId: DEV,
          mpxn: MPAN,
        },
      ]);
      expect(o.applied).toBe(0);
      expect(o.rejected.map((r) => r.code)).toEqual(["UNKNOWN_DEVICE", "UNKNOWN_DEVICE", "UNKNOWN_DEVICE"]);
      const counts = await queryRows<{ c: number; a: number; m: number }>(
        t.url,
        `SELECT (SELECT count(*) FROM device_status_change)::int AS c,
                (SELECT count(*) FROM device_association)::int AS a,
                (SELECT count(*) FROM meter_point)::int AS m`,
      );
      expect(counts).toEqual([{ c: 0, a: 0, m: 0 }]);
    } finally {
      await t.close();
    }
  });

  it("leaves no orphaned history row after a mixed bulk ingest and concurrent batches", async () => {
    const t = await openTestApp();
    try {
      // A realistic mix, in bulk batches (the COPY path), with rejected events in between.
      const events: Record<string, string>[] = [...generateSeedEvents({ meterPoints: 600, prefix: "integ" })];
      events.splice(100, 0, {
        eventId: "bad-1",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "DeviceAssociated",
        deviceId: "00-00-00-00-00-00-00-01",
        mpxn: MPAN,
      });
      for (let i = 0; i < events.length; i += 1000) {
        const o = await t.app.applier.applyRaw(events.slice(i, i + 1000));
        expect(o.rejected.every((r) => r.eventId === "bad-1")).toBe(true);
      }

      // Concurrent batches that each create the same devices and associate them with a meter point
      // that does not exist yet: one creates, the others collide on the primary key and are retried.
      const batch = (n: number) => [
        {
          eventId: `c${n}-1`,
          occurredAt: "2026-04-01T09:00:00Z",
          type: "DeviceRegistered",
          deviceId: DEV,
          deviceType: "ESME",
        },
        {
          eventId: `c${n}-2`,
          occurredAt: "2026-04-01T09:01:00Z",
          type: "DeviceAssociated",
          deviceId: DEV,
          mpxn: MPAN,
        },
        {
          eventId: `c${n}-3`,
          occurredAt: "2026-04-01T09:02:00Z",
          type: "DeviceStatusChanged",
          deviceId: DEV,
          status: "Commissioned",
        },
        {
          eventId: `c${n}-4`,
          occurredAt: "2026-04-01T09:00:00Z",
          type: "DeviceRegistered",
          deviceId: GAS_DEV,
          deviceType: "GSME",
        },
        {
          eventId: `c${n}-5`,
          occurredAt: "2026-04-01T09:01:00Z",
          type: "DeviceAssociated",
          deviceId: GAS_DEV,
          mpxn: MPRN,
        },
      ];
      // The first to commit applies everything; the later ones find the same events already
      // applied under other ids, so they are stale or change nothing.
      const outcomes = await Promise.all([1, 2, 3, 4].map((n) => t.app.applier.applyRaw(batch(n))));
      expect(outcomes.filter((o) => o.rejected.length === 0)).toHaveLength(1);
      for (const o of outcomes) expect(o.rejected.every((r) => r.code === "STALE_EVENT")).toBe(true);

      expect(await queryRows(t.url, ORPHANS)).toEqual([
        { status_changes: 0, association_devices: 0, association_meter_points: 0 },
      ]);
      const active = await queryRows<{ n: number }>(
        t.url,
        `SELECT count(*)::int AS n FROM device_association WHERE device_id IN ($1, $2) AND ended_at IS NULL`,
        [DEV, GAS_DEV],
      );
      expect(active).toEqual([{ n: 2 }]);
    } finally {
      await t.close();
    }
  });
});
