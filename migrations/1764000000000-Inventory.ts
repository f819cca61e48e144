import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * The inventory, its histories and the flag transition feed (SPEC §2, §3).
 *
 * Reviewed by hand. Notes for reviewers:
 * - Closed sets are text with CHECK constraints (DUIS spellings), so the stored values read like the
 *   industry documents and a new value is one migration away.
 * - `service_flag_transition.sequence` comes from its own sequence: strictly increasing, global, the
 *   subscription cursor. Concurrent writers may commit out of sequence order; the feed handles that.
 * - The transition keeps the network operator, fuel and supplier of its moment, so the feed and the
 *   export filter without a join and tenant scoping stays what it was when the flag changed.
 * - One active association per (device, meter point): a partial unique index.
 * - `tx_id` is the writing transaction's id. Writers take their transaction id before drawing a
 *   sequence, so the feed can tell when every sequence up to a point is settled (committed or
 *   rolled back), even when transactions commit out of sequence order.
 */
export class Inventory1764000000000 implements MigrationInterface {
  name = "Inventory1764000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE meter_point (
        mpxn text NOT NULL,
        fuel text NOT NULL,
        network_operator text,
        supplier text,
        service_flag char(1),
        flag_effective_at timestamptz,
        registered_at timestamptz NOT NULL,
        last_event_at timestamptz NOT NULL,
        CONSTRAINT meter_point_pk PRIMARY KEY (mpxn),
        CONSTRAINT meter_point_fuel_ck CHECK (fuel IN ('ELECTRICITY', 'GAS')),
        CONSTRAINT meter_point_flag_ck CHECK (service_flag IN ('A', 'I', 'N'))
      )`);
    await q.query(`CREATE INDEX meter_point_network_idx ON meter_point (network_operator, mpxn)`);
    await q.query(`CREATE INDEX meter_point_supplier_idx ON meter_point (supplier, mpxn)`);
    await q.query(`CREATE INDEX meter_point_flag_idx ON meter_point (service_flag, mpxn)`);

    await q.query(`
      CREATE TABLE device (
        device_id text NOT NULL,
        device_type text NOT NULL,
        smets text,
        manufacturer text,
        model text,
        firmware_version text,
        status text NOT NULL,
        status_effective_at timestamptz NOT NULL,
        effective_status text,
        last_event_at timestamptz NOT NULL,
        CONSTRAINT device_pk PRIMARY KEY (device_id),
        CONSTRAINT device_type_ck CHECK (device_type IN ('ESME','GSME','GPF','CHF','HCALCS','PPMID','IHD','CAD')),
        CONSTRAINT device_status_ck CHECK (status IN ('Pending','Whitelisted','InstalledNotCommissioned',
          'Commissioned','Decommissioned','Withdrawn','Suspended','Recovery','Recovered')),
        CONSTRAINT device_effective_status_ck CHECK (effective_status IN ('Pending','Whitelisted',
          'InstalledNotCommissioned','Commissioned','Decommissioned','Withdrawn'))
      )`);
    await q.query(`CREATE INDEX device_model_idx ON device (manufacturer, model)`);

    await q.query(`
      CREATE TABLE device_status_change (
        id bigint GENERATED ALWAYS AS IDENTITY,
        device_id text NOT NULL,
        status text NOT NULL,
        effective_status text,
        occurred_at timestamptz NOT NULL,
        event_id text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT device_status_change_pk PRIMARY KEY (id),
        CONSTRAINT device_status_change_device_fk FOREIGN KEY (device_id) REFERENCES device (device_id)
      )`);
    await q.query(`CREATE INDEX device_status_change_device_idx ON device_status_change (device_id, id)`);

    await q.query(`
      CREATE TABLE device_association (
        id bigint GENERATED ALWAYS AS IDENTITY,
        device_id text NOT NULL,
        mpxn text NOT NULL,
        role text NOT NULL,
        begun_at timestamptz NOT NULL,
        ended_at timestamptz,
        begin_event_id text NOT NULL,
        end_event_id text,
        CONSTRAINT device_association_pk PRIMARY KEY (id),
        CONSTRAINT device_association_device_fk FOREIGN KEY (device_id) REFERENCES device (device_id),
        CONSTRAINT device_association_meter_point_fk FOREIGN KEY (mpxn) REFERENCES meter_point (mpxn),
        CONSTRAINT device_association_role_ck CHECK (role IN ('Import', 'SecondaryImport', 'Export')),
        CONSTRAINT device_association_period_ck CHECK (ended_at IS NULL OR ended_at >= begun_at)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX device_association_active_uq ON device_association (device_id, mpxn) WHERE ended_at IS NULL`,
    );
    await q.query(`CREATE INDEX device_association_mpxn_idx ON device_association (mpxn, id)`);
    await q.query(`CREATE INDEX device_association_device_idx ON device_association (device_id, id)`);

    await q.query(`CREATE SEQUENCE service_flag_transition_sequence_seq AS bigint`);
    await q.query(`
      CREATE TABLE service_flag_transition (
        sequence bigint NOT NULL,
        mpxn text NOT NULL,
        fuel text NOT NULL,
        network_operator text,
        supplier text,
        from_flag char(1),
        to_flag char(1),
        rule text NOT NULL,
        contributing_device_ids text[] NOT NULL,
        effective_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        cause_event_id text NOT NULL,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT service_flag_transition_pk PRIMARY KEY (sequence),
        CONSTRAINT service_flag_transition_change_ck CHECK (from_flag IS DISTINCT FROM to_flag)
      )`);
    await q.query(
      `CREATE INDEX service_flag_transition_mpxn_idx ON service_flag_transition (mpxn, sequence)`,
    );
    await q.query(
      `CREATE INDEX service_flag_transition_network_idx ON service_flag_transition (network_operator, sequence)`,
    );
    await q.query(
      `CREATE INDEX service_flag_transition_supplier_idx ON service_flag_transition (supplier, sequence)`,
    );

    await q.query(`
      CREATE TABLE applied_event (
        event_id text NOT NULL,
        event_type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT applied_event_pk PRIMARY KEY (event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE applied_event`);
    await q.query(`DROP TABLE service_flag_transition`);
    await q.query(`DROP SEQUENCE service_flag_transition_sequence_seq`);
    await q.query(`DROP TABLE device_association`);
    await q.query(`DROP TABLE device_status_change`);
    await q.query(`DROP TABLE device`);
    await q.query(`DROP TABLE meter_point`);
  }
}
