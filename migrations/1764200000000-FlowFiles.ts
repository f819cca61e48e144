import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Registration update files (SPEC §7): per-recipient export state, the last flag sent per MPxN,
 * and the files themselves with their records.
 *
 * Reviewed by hand. Notes for reviewers:
 * - A recipient is a network operator *and* a flow: an MPAS id receives D0350 (electricity), a gas
 *   transporter receives E46. Each pair has its own file-id counter and its own sequence horizon.
 * - `flow_recipient.horizon` is the transition sequence up to which changes have been taken into a
 *   file (prepared). Everything with a larger sequence is pending.
 * - Two phases make a crash harmless: a file is *prepared* (id, records, horizon, last-sent flags) in
 *   one transaction, then written, then marked sent (`sent_at`). A rerun writes every prepared but
 *   unsent file again, byte for byte, before preparing new ones.
 * - `flow_sent_flag` holds, per recipient and MPxN, the flag and date last sent and the file that
 *   carried them. It moves at prepare time: a prepared file is a commitment (it will be written,
 *   again if need be), so the next file compares against it. It is also the content of a prepared
 *   file: the rows with its `file_id`, in MPxN order (`flow_sent_flag_file_idx`). A later file can
 *   only overwrite those rows once this one is sent, because a run writes every unsent file before
 *   preparing new ones (under an advisory lock). One table, not a records table beside it: a
 *   million-record file costs one million-row write, not two.
 * - `mpxn` is `COLLATE "C"`: file order is byte order, the same on every server.
 * - No foreign keys on `flow_sent_flag`: checked per row they cost as much as the insert itself, and
 *   its only writer (FlowStore.prepareFiles) writes the recipient row in the same transaction.
 */
export class FlowFiles1764200000000 implements MigrationInterface {
  name = "FlowFiles1764200000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE flow_recipient (
        network_operator text NOT NULL,
        flow text NOT NULL,
        horizon bigint NOT NULL DEFAULT 0,
        last_file_id integer NOT NULL DEFAULT 0,
        CONSTRAINT flow_recipient_pk PRIMARY KEY (network_operator, flow),
        CONSTRAINT flow_recipient_flow_ck CHECK (flow IN ('D0350', 'E46')),
        CONSTRAINT flow_recipient_horizon_ck CHECK (horizon >= 0),
        CONSTRAINT flow_recipient_last_file_id_ck CHECK (last_file_id >= 0)
      )`);

    await q.query(`
      CREATE TABLE flow_file (
        network_operator text NOT NULL,
        flow text NOT NULL,
        file_id integer NOT NULL,
        file_name text NOT NULL,
        horizon_from bigint NOT NULL,
        horizon_to bigint NOT NULL,
        record_count integer NOT NULL,
        prepared_at timestamptz NOT NULL,
        sent_at timestamptz,
        CONSTRAINT flow_file_pk PRIMARY KEY (network_operator, flow, file_id),
        CONSTRAINT flow_file_recipient_fk FOREIGN KEY (network_operator, flow)
          REFERENCES flow_recipient (network_operator, flow),
        CONSTRAINT flow_file_id_ck CHECK (file_id >= 1),
        CONSTRAINT flow_file_count_ck CHECK (record_count >= 1),
        CONSTRAINT flow_file_horizon_ck CHECK (horizon_to >= horizon_from)
      )`);
    await q.query(
      `CREATE INDEX flow_file_unsent_idx ON flow_file (network_operator, flow, file_id) WHERE sent_at IS NULL`,
    );
    await q.query(`CREATE INDEX flow_file_prepared_idx ON flow_file (prepared_at DESC)`);

    await q.query(`
      CREATE TABLE flow_sent_flag (
        network_operator text NOT NULL,
        flow text NOT NULL,
        mpxn text COLLATE "C" NOT NULL,
        flag char(1) NOT NULL,
        effective_date text NOT NULL,
        file_id integer NOT NULL,
        CONSTRAINT flow_sent_flag_pk PRIMARY KEY (network_operator, flow, mpxn),
        CONSTRAINT flow_sent_flag_flag_ck CHECK (flag IN ('A', 'I', 'N')),
        CONSTRAINT flow_sent_flag_date_ck CHECK (effective_date ~ '^[0-9]{8}$')
      )`);
    await q.query(
      `CREATE INDEX flow_sent_flag_file_idx ON flow_sent_flag (network_operator, flow, file_id, mpxn)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE flow_sent_flag`);
    await q.query(`DROP TABLE flow_file`);
    await q.query(`DROP TABLE flow_recipient`);
  }
}
