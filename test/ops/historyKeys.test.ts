import "reflect-metadata";
import { createDataSource, migrate } from "../../src/persistence/dataSource";
import { openTestApp } from "../support/harness";
import { digestState } from "../ingest/support";
import { EventType } from "../../src/domain/events";

const MPAN = "1312345678907";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";

/** The key columns and index names of the inventory tables the LeanerHistoryKeys migration changes. */
async function shape(ds: ReturnType<typeof createDataSource>) {
  const pk: { t: string; cols: string }[] = await ds.query(
    `SELECT c.conrelid::regclass::text AS t,
            string_agg(a.attname, ',' ORDER BY array_position(c.conkey, a.attnum)) AS cols
       FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
      WHERE c.contype = 'p' AND c.conrelid IN ('device_status_change'::regclass, 'device_association'::regclass)
      GROUP BY 1 ORDER BY 1`,
  );
  const idx: { indexname: string }[] = await ds.query(
    `SELECT indexname FROM pg_indexes
      WHERE tablename IN ('device', 'device_status_change', 'device_association') ORDER BY 1`,
  );
  const ff: { relname: string; reloptions: string[] | null }[] = await ds.query(
    `SELECT relname, reloptions FROM pg_class WHERE relname IN ('device', 'meter_point') ORDER BY 1`,
  );
  return { pk, indexes: idx.map((r) => r.indexname), fillfactor: ff };
}

describe("the LeanerHistoryKeys migration", () => {
  it("keys the history tables by device, drops the redundant indexes, and round-trips through down and up", async () => {
    const t = await openTestApp();
    const ds = createDataSource({ url: t.url, poolSize: 1 });
    await ds.initialize();
    try {
      const events = [
        {
          eventId: "k1",
          occurredAt: "2026-03-01T09:00:00Z",
          type: EventType.METER_POINT_REGISTERED,
          mpxn: MPAN,
        },
        {
          eventId: "k2",
          occurredAt: "2026-03-01T09:00:00Z",
          type: EventType.DEVICE_REGISTERED,
          deviceId: DEV,
          deviceType: "ESME",
        },
        {
          eventId: "k3",
          occurredAt: "2026-03-01T09:01:00Z",
          type: EventType.DEVICE_ASSOCIATED,
          deviceId: DEV,
          mpxn: MPAN,
        },
        {
          eventId: "k4",
          occurredAt: "2026-03-01T09:02:00Z",
          type: EventType.DEVICE_STATUS_CHANGED,
          deviceId: DEV,
          status: "Commissioned",
        },
      ];
      expect((await t.app.applier.applyRaw(events)).applied).toBe(4);

      const up = await shape(ds);
      expect(up.pk).toEqual([
        { t: "device_association", cols: "device_id,id" },
        { t: "device_status_change", cols: "device_id,id" },
      ]);
      expect(up.indexes).toEqual([
        "device_association_active_uq",
        "device_association_mpxn_idx",
        "device_association_pk",
        "device_pk",
        "device_status_change_pk",
      ]);
      expect(up.fillfactor).toEqual([
        { relname: "device", reloptions: ["fillfactor=90"] },
        { relname: "meter_point", reloptions: ["fillfactor=90"] },
      ]);

      await ds.undoLastMigration({ transaction: "each" });
      const down = await shape(ds);
      expect(down.pk).toEqual([
        { t: "device_association", cols: "id" },
        { t: "device_status_change", cols: "id" },
      ]);
      expect(down.indexes).toEqual([
        "device_association_active_uq",
        "device_association_device_idx",
        "device_association_mpxn_idx",
        "device_association_pk",
        "device_model_idx",
        "device_pk",
        "device_status_change_device_idx",
        "device_status_change_pk",
      ]);
      expect(down.fillfactor.map((r) => r.reloptions)).toEqual([null, null]);

      const before = await digestState(t.url);
      expect(await migrate(ds)).toEqual(["LeanerHistoryKeys1764500000000"]);
      expect(await shape(ds)).toEqual(up);
      expect(await digestState(t.url)).toEqual(before);

      // Ending an association addresses its row by (device_id, id), the new key.
      const end = await t.app.applier.applyRaw([
        {
          eventId: "k5",
          occurredAt: "2026-03-02T09:00:00Z",
          type: EventType.DEVICE_DISASSOCIATED,
          deviceId: DEV,
          mpxn: MPAN,
        },
      ]);
      expect(end.applied).toBe(1);
      const rows: { ended_at: Date | null; end_event_id: string | null }[] = await ds.query(
        "SELECT ended_at, end_event_id FROM device_association WHERE device_id = $1",
        [DEV],
      );
      expect(rows).toEqual([{ ended_at: new Date("2026-03-02T09:00:00Z"), end_event_id: "k5" }]);
    } finally {
      await ds.destroy();
      await t.close();
    }
  });
});
