import { setTimeout as sleep } from "node:timers/promises";
import { type DataSource, type EntityManager } from "typeorm";
import { type FlowRecord, FlowKind, flowFileName } from "../flows/flowRecord";

/**
 * The tables of registration update files (migrations/1764200000000-FlowFiles.ts): export state per
 * recipient, the files prepared and sent, and the last flag sent per MPxN (which is also the
 * content of a prepared file).
 *
 * Every set operation runs in PostgreSQL (a temp table, `INSERT … SELECT`): an export of a million
 * changes never brings a million rows through Node except to write the file.
 */

export interface FlowFileRow {
  readonly networkOperator: string;
  readonly flow: FlowKind;
  readonly fileId: number;
  readonly fileName: string;
  readonly horizonFrom: string;
  readonly horizonTo: string;
  readonly recordCount: number;
  readonly preparedAt: Date;
  readonly sentAt: Date | null;
}

export interface PendingRecipient {
  readonly networkOperator: string;
  readonly flow: FlowKind;
  /** Transitions after the recipient's horizon. */
  readonly transitions: number;
  /** Distinct meter points among them: the most records the next file(s) can hold (0 when not counted). */
  readonly meterPoints: number;
}

export interface RegisteredView {
  readonly mpxn: string;
  readonly fuel: "ELECTRICITY" | "GAS";
  readonly networkOperator: string | null;
  readonly serviceFlag: "A" | "I" | "N" | null;
  /** YYYYMMDD, Europe/London, of the current flag's effective time; null with a null flag. */
  readonly effectiveDate: string | null;
}

interface FileSqlRow {
  network_operator: string;
  flow: string;
  file_id: number;
  file_name: string;
  horizon_from: string;
  horizon_to: string;
  record_count: number;
  prepared_at: Date;
  sent_at: Date | null;
}

const FILE_COLUMNS =
  "network_operator, flow, file_id, file_name, horizon_from::text, horizon_to::text, record_count, prepared_at, sent_at";

const toFileRow = (r: FileSqlRow): FlowFileRow => ({
  networkOperator: r.network_operator,
  flow: r.flow as FlowKind,
  fileId: r.file_id,
  fileName: r.file_name,
  horizonFrom: r.horizon_from,
  horizonTo: r.horizon_to,
  recordCount: r.record_count,
  preparedAt: r.prepared_at,
  sentAt: r.sent_at,
});

/** The fuel of a flow, as stored on transitions (the SQL twin of flowForFuel). */
const FLOW_OF_FUEL_SQL = "CASE t.fuel WHEN 'ELECTRICITY' THEN 'D0350' ELSE 'E46' END";

export class FlowStore {
  constructor(private readonly ds: DataSource) {}

  /**
   * The largest transition sequence below which nothing can still appear. Sequences are drawn in
   * order but commit out of order: a transaction may hold sequence 10 uncommitted while 11 is
   * visible. Writers take their transaction id before drawing a sequence (inventoryStore), so:
   * read the sequence's last value L, then the set of transactions in progress; every transaction
   * that drew a value ≤ L is either finished or in that set. Wait for the set to finish, and every
   * sequence ≤ L is settled (committed and visible, or rolled back forever).
   */
  async settledHorizon(timeoutMs = 120_000): Promise<string> {
    const [seq] = (await this.ds.query(
      `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS last FROM service_flag_transition_sequence_seq`,
    )) as { last: string }[];
    // A separate statement, so its snapshot is taken after the read above.
    const [snap] = (await this.ds.query(
      `SELECT array(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) x) AS xip`,
    )) as { xip: string[] }[];
    const deadline = Date.now() + timeoutMs;
    let waiting = snap?.xip ?? [];
    while (waiting.length > 0) {
      const rows = (await this.ds.query(
        `SELECT x::text AS x FROM unnest($1::xid8[]) x WHERE pg_xact_status(x) = 'in progress'`,
        [waiting],
      )) as { x: string }[];
      waiting = rows.map((r) => r.x);
      if (waiting.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(
          `expected the transactions holding transition sequences ≤ ${seq?.last} to finish within ${timeoutMs} ms; still running: ${waiting.join(", ")}`,
        );
      await sleep(25);
    }
    return seq?.last ?? "0";
  }

  /**
   * Serialises exports across processes for the duration of `fn` (a session advisory lock on a
   * dedicated connection): two exports at once would otherwise race on the same prepared files.
   */
  async withExportLock<T>(fn: () => Promise<T>): Promise<T> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.query("SELECT pg_advisory_lock(hashtext('smi-gateway:export-flows'))");
      try {
        return await fn();
      } finally {
        await qr.query("SELECT pg_advisory_unlock(hashtext('smi-gateway:export-flows'))");
      }
    } finally {
      await qr.release();
    }
  }

  /** Files prepared but not yet recorded as sent, in the order they must go out. */
  async unsentFiles(): Promise<FlowFileRow[]> {
    const rows = (await this.ds.query(
      `SELECT ${FILE_COLUMNS} FROM flow_file WHERE sent_at IS NULL ORDER BY network_operator, flow, file_id`,
    )) as FileSqlRow[];
    return rows.map(toFileRow);
  }

  /**
   * A page of a prepared file's records in MPxN order, after `afterMpxn` (keyset on
   * flow_sent_flag_file_idx). A prepared file's records are the last-sent rows carrying its id.
   */
  async fileRecords(f: FlowFileRow, afterMpxn: string, limit: number): Promise<FlowRecord[]> {
    const rows = (await this.ds.query(
      `SELECT mpxn, flag, effective_date FROM flow_sent_flag
        WHERE network_operator = $1 AND flow = $2 AND file_id = $3 AND mpxn > $4
        ORDER BY mpxn LIMIT $5`,
      [f.networkOperator, f.flow, f.fileId, afterMpxn, limit],
    )) as { mpxn: string; flag: "A" | "I" | "N"; effective_date: string }[];
    return rows.map((r) => ({ mpxn: r.mpxn, flag: r.flag, effectiveDate: r.effective_date }));
  }

  async markSent(f: FlowFileRow): Promise<void> {
    await this.ds.query(
      `UPDATE flow_file SET sent_at = now() WHERE network_operator = $1 AND flow = $2 AND file_id = $3 AND sent_at IS NULL`,
      [f.networkOperator, f.flow, f.fileId],
    );
  }

  /**
   * Recipients with transitions after their horizon, up to `upTo` (or all, when null). Transitions
   * without a network operator cannot be addressed and are counted apart.
   */
  async pendingRecipients(
    upTo: string | null,
    o: { countMeterPoints: boolean } = { countMeterPoints: true },
  ): Promise<{ recipients: PendingRecipient[]; unroutable: number }> {
    const params: unknown[] = [];
    let bound = "";
    if (upTo !== null) {
      params.push(upTo);
      bound = `AND t.sequence <= $1::bigint`;
    }
    const rows = (await this.ds.query(
      `SELECT t.network_operator, ${FLOW_OF_FUEL_SQL} AS flow,
              count(*)::int AS transitions, ${o.countMeterPoints ? "count(DISTINCT t.mpxn)::int" : "0"} AS meter_points
         FROM service_flag_transition t
         LEFT JOIN flow_recipient r ON r.network_operator = t.network_operator AND r.flow = ${FLOW_OF_FUEL_SQL}
        WHERE t.sequence > COALESCE(r.horizon, 0) ${bound}
          AND t.sequence > (SELECT COALESCE(min(horizon), 0) FROM flow_recipient)
        GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2`,
      params,
    )) as { network_operator: string | null; flow: string; transitions: number; meter_points: number }[];
    let unroutable = 0;
    const recipients: PendingRecipient[] = [];
    for (const r of rows) {
      if (r.network_operator === null) unroutable += r.transitions;
      else
        recipients.push({
          networkOperator: r.network_operator,
          flow: r.flow as FlowKind,
          transitions: r.transitions,
          meterPoints: r.meter_points,
        });
    }
    return { recipients, unroutable };
  }

  /**
   * Phase one of sending: in one transaction, take every change of one recipient's meter points
   * with a sequence in (horizon, upTo], keep the latest per MPxN, drop those equal to the flag last
   * sent to that recipient (and null, which is never sent), number them by MPxN, cut them into
   * files of at most `maxRecords`, store the files, move the last-sent flags (which now name
   * the files that carry them) and the horizon. Returns the files prepared (none when nothing is left to send: no empty file).
   */
  async prepareFiles(
    networkOperator: string,
    flow: FlowKind,
    upTo: string,
    maxRecords: number | null,
  ): Promise<FlowFileRow[]> {
    return this.ds.transaction(async (m: EntityManager) => {
      await m.query(
        `INSERT INTO flow_recipient (network_operator, flow) VALUES ($1, $2) ON CONFLICT ON CONSTRAINT flow_recipient_pk DO NOTHING`,
        [networkOperator, flow],
      );
      const [state] = (await m.query(
        `SELECT horizon::text AS horizon, last_file_id FROM flow_recipient
          WHERE network_operator = $1 AND flow = $2 FOR UPDATE`,
        [networkOperator, flow],
      )) as { horizon: string; last_file_id: number }[];
      if (!state || BigInt(state.horizon) >= BigInt(upTo)) return [];
      const fuel = flow === FlowKind.D0350 ? "ELECTRICITY" : "GAS";
      // The latest-per-MPxN sort of a large window fits in memory instead of spilling to disk.
      await m.query(`SET LOCAL work_mem = '64MB'`);
      await m.query(`DROP TABLE IF EXISTS pg_temp.flow_pending`);
      await m.query(
        `CREATE TEMP TABLE flow_pending ON COMMIT DROP AS
         SELECT (row_number() OVER (ORDER BY c.mpxn COLLATE "C"))::int AS n, c.mpxn, c.to_flag AS flag,
                to_char(c.effective_at AT TIME ZONE 'Europe/London', 'YYYYMMDD') AS effective_date,
                s.mpxn IS NOT NULL AS known
           FROM (SELECT DISTINCT ON (mpxn) mpxn, to_flag, effective_at
                   FROM service_flag_transition
                  WHERE network_operator = $1 AND fuel = $2 AND sequence > $3::bigint AND sequence <= $4::bigint
                  ORDER BY mpxn, sequence DESC) c
           LEFT JOIN flow_sent_flag s ON s.network_operator = $1 AND s.flow = $5 AND s.mpxn = c.mpxn
          WHERE c.to_flag IS NOT NULL AND c.to_flag IS DISTINCT FROM s.flag`,
        [networkOperator, fuel, state.horizon, upTo, flow],
      );
      const [cnt] = (await m.query(`SELECT count(*)::int AS n FROM flow_pending`)) as { n: number }[];
      const total = cnt?.n ?? 0;
      const perFile = maxRecords ?? Math.max(total, 1);
      const fileCount = Math.ceil(total / perFile);
      const firstId = state.last_file_id + 1;
      const files: FlowFileRow[] = [];
      for (let k = 0; k < fileCount; k++) {
        const fileId = firstId + k;
        const rows = (await m.query(
          `INSERT INTO flow_file (network_operator, flow, file_id, file_name, horizon_from, horizon_to, record_count, prepared_at)
           VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, now())
           RETURNING ${FILE_COLUMNS}`,
          [
            networkOperator,
            flow,
            fileId,
            flowFileName(flow, networkOperator, fileId),
            state.horizon,
            upTo,
            Math.min(perFile, total - k * perFile),
          ],
        )) as FileSqlRow[];
        files.push(toFileRow(rows[0]!));
      }
      if (total > 0) {
        // Records n = 1..total in MPxN order go to consecutive files of perFile each. Known MPxNs are
        // updated and new ones inserted, in two plain statements: an upsert's speculative insertion
        // costs more per row, and a first export inserts millions.
        await m.query(
          `UPDATE flow_sent_flag s
              SET flag = p.flag, effective_date = p.effective_date, file_id = $3 + (p.n - 1) / $4
             FROM flow_pending p
            WHERE p.known AND s.network_operator = $1 AND s.flow = $2 AND s.mpxn = p.mpxn`,
          [networkOperator, flow, firstId, perFile],
        );
        await m.query(
          `INSERT INTO flow_sent_flag (network_operator, flow, mpxn, flag, effective_date, file_id)
           SELECT $1, $2, mpxn, flag, effective_date, $3 + (n - 1) / $4 FROM flow_pending WHERE NOT known`,
          [networkOperator, flow, firstId, perFile],
        );
      }
      await m.query(
        `UPDATE flow_recipient SET horizon = $3::bigint, last_file_id = $4 WHERE network_operator = $1 AND flow = $2`,
        [networkOperator, flow, upTo, state.last_file_id + fileCount],
      );
      return files;
    });
  }

  /** Files produced, newest first. */
  async listFiles(f: { networkOperator?: string; flow?: FlowKind; limit: number }): Promise<FlowFileRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.networkOperator !== undefined) {
      params.push(f.networkOperator);
      where.push(`network_operator = $${params.length}`);
    }
    if (f.flow !== undefined) {
      params.push(f.flow);
      where.push(`flow = $${params.length}`);
    }
    params.push(f.limit);
    const rows = (await this.ds.query(
      `SELECT ${FILE_COLUMNS} FROM flow_file ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY prepared_at DESC, network_operator, flow, file_id DESC LIMIT $${params.length}`,
      params,
    )) as FileSqlRow[];
    return rows.map(toFileRow);
  }

  /** The inventory's view of many MPxNs at once (reconciliation), keyed by MPxN. */
  async registeredViews(mpxns: readonly string[]): Promise<Map<string, RegisteredView>> {
    const rows = (await this.ds.query(
      `SELECT mpxn, fuel, network_operator, service_flag,
              to_char(flag_effective_at AT TIME ZONE 'Europe/London', 'YYYYMMDD') AS effective_date
         FROM meter_point WHERE mpxn = ANY($1::text[])`,
      [mpxns],
    )) as {
      mpxn: string;
      fuel: "ELECTRICITY" | "GAS";
      network_operator: string | null;
      service_flag: "A" | "I" | "N" | null;
      effective_date: string | null;
    }[];
    const out = new Map<string, RegisteredView>();
    for (const r of rows)
      out.set(r.mpxn, {
        mpxn: r.mpxn,
        fuel: r.fuel,
        networkOperator: r.network_operator,
        serviceFlag: r.service_flag,
        effectiveDate: r.service_flag === null ? null : r.effective_date,
      });
    return out;
  }
}
