import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Fewer indexes to maintain per ingested event (SPEC §9). Reviewed by hand.
 *
 * Every row a bulk ingest writes costs one B-tree insertion per index of its table, and those
 * insertions are most of the database's share of an ingest (measured on the benchmark's mix: a
 * history row with two indexes costs about a third more than with one). Three indexes go:
 *
 * - `device_status_change` and `device_association` each had a primary key on their identity `id`
 *   *and* an index on `(device_id, id)`. Every read of them goes by device (a device's status
 *   history, its associations, the status at an instant) or by meter point (`mpxn_idx`, kept), and
 *   the one write that addresses a row, ending an association, knows its device. So the primary
 *   key becomes `(device_id, id)` and the separate index goes: one index instead of two, same
 *   reads. `id` stays unique on its own (an identity), the key only adds the device in front.
 * - `device_model_idx` on `device (manufacturer, model)`: no statement reads through it (a CPL
 *   removal arrives as one status event per device, addressed by device id), and without it a
 *   status change touches no indexed column of `device`, so PostgreSQL can update the row in place
 *   (a HOT update, no index insertion at all) when its page has room.
 *
 * That room is the last change: `device` and `meter_point` are updated much more than they are
 * inserted once an inventory is loaded (status changes, mass suspensions and recoveries, supplier
 * changes), so their pages keep 10% free (fillfactor 90, for pages written from now on).
 *
 * `down` restores the previous keys and indexes (and the default fillfactor).
 */
export class LeanerHistoryKeys1764500000000 implements MigrationInterface {
  name = "LeanerHistoryKeys1764500000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE device_status_change
        DROP CONSTRAINT device_status_change_pk,
        ADD CONSTRAINT device_status_change_pk PRIMARY KEY (device_id, id)`);
    await q.query(`DROP INDEX device_status_change_device_idx`);
    await q.query(`
      ALTER TABLE device_association
        DROP CONSTRAINT device_association_pk,
        ADD CONSTRAINT device_association_pk PRIMARY KEY (device_id, id)`);
    await q.query(`DROP INDEX device_association_device_idx`);
    await q.query(`DROP INDEX device_model_idx`);
    await q.query(`ALTER TABLE device SET (fillfactor = 90)`);
    await q.query(`ALTER TABLE meter_point SET (fillfactor = 90)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE meter_point RESET (fillfactor)`);
    await q.query(`ALTER TABLE device RESET (fillfactor)`);
    await q.query(`CREATE INDEX device_model_idx ON device (manufacturer, model)`);
    await q.query(`CREATE INDEX device_association_device_idx ON device_association (device_id, id)`);
    await q.query(`
      ALTER TABLE device_association
        DROP CONSTRAINT device_association_pk,
        ADD CONSTRAINT device_association_pk PRIMARY KEY (id)`);
    await q.query(`CREATE INDEX device_status_change_device_idx ON device_status_change (device_id, id)`);
    await q.query(`
      ALTER TABLE device_status_change
        DROP CONSTRAINT device_status_change_pk,
        ADD CONSTRAINT device_status_change_pk PRIMARY KEY (id)`);
  }
}
