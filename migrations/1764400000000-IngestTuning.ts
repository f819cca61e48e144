import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Bulk ingest tuning (SPEC §9). Reviewed by hand.
 *
 * Drops the foreign keys of the two append-only history tables, `device_status_change.device_id`
 * and `device_association.device_id` / `.mpxn`. Each one costs PostgreSQL a trigger per inserted
 * row (an SPI `SELECT ... FOR KEY SHARE` on the referenced row), which made these two tables the
 * most expensive writes of a bulk ingest (measured: about a fifth of the ingest's time on the
 * benchmark's mix). They check nothing the application does not already guarantee:
 * - the application is the only writer of these tables, and only through the working set
 *   (src/domain/inventory.ts, persisted by src/persistence/inventoryStore.ts), which writes a
 *   status change only for a device it holds (loaded `FOR UPDATE` or created in the same
 *   transaction) and an association only between a device and a meter point it holds the same way
 *   (an unknown device is `UNKNOWN_DEVICE`; an unknown meter point is registered first);
 * - nothing deletes devices or meter points, and their keys never change, so a referenced row
 *   cannot disappear after the fact;
 * - two batches creating the same device or meter point collide on its primary key and one is
 *   retried, so a history row never refers to a row of a rolled-back transaction.
 * test/ingest/integrity.test.ts checks this: unknown devices are rejected with nothing written, and
 * no history row of a mixed ingest (including rejected events and a concurrent batch) is orphaned.
 *
 * The primary keys, unique and lookup indexes are kept: the read paths and the working set's
 * loader use every one of them.
 */
export class IngestTuning1764400000000 implements MigrationInterface {
  name = "IngestTuning1764400000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE device_status_change DROP CONSTRAINT device_status_change_device_fk`);
    await q.query(`
      ALTER TABLE device_association
        DROP CONSTRAINT device_association_device_fk,
        DROP CONSTRAINT device_association_meter_point_fk`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE device_status_change ADD CONSTRAINT device_status_change_device_fk
        FOREIGN KEY (device_id) REFERENCES device (device_id)`);
    await q.query(`
      ALTER TABLE device_association
        ADD CONSTRAINT device_association_device_fk FOREIGN KEY (device_id) REFERENCES device (device_id),
        ADD CONSTRAINT device_association_meter_point_fk FOREIGN KEY (mpxn) REFERENCES meter_point (mpxn)`);
  }
}
