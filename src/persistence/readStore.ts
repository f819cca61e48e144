import {
  ASSOCIATION_COLUMNS,
  type AssociationRow,
  DEVICE_COLUMNS,
  type DeviceRow,
  METER_POINT_COLUMNS,
  type MeterPointRow,
  TRANSITION_COLUMNS,
  type TransitionRow,
} from "./inventoryStore";
import { type SqlReader } from "./readRouting";

/**
 * The read side: every look-up the API makes, each a batch over many keys in one statement, so
 * DataLoader can serve a list of any size with a constant number of statements.
 * Results come back in key order (null or [] for keys with nothing).
 */
export interface MeterPointFilterQuery {
  readonly networkOperator?: string;
  readonly fuel?: string;
  /** Flags to match; null in the list matches the NULL flag. */
  readonly serviceFlags?: readonly (string | null)[];
  readonly supplier?: string;
  /** Tenant scope, applied on top of the client's filter. */
  readonly scopeNetworkOperator?: string;
  readonly scopeSupplier?: string;
}

export interface TransitionFilterQuery {
  readonly networkOperator?: string;
  readonly mpxns?: readonly string[];
  readonly fuel?: string;
  readonly to?: readonly (string | null)[];
  readonly from?: readonly (string | null)[];
  readonly scopeNetworkOperator?: string;
  readonly scopeSupplier?: string;
}

export interface StatusChangeRow {
  id: string;
  device_id: string;
  status: string;
  effective_status: string | null;
  occurred_at: Date;
  event_id: string;
  recorded_at: Date;
}

/** Groups rows by a key into arrays, in the order of `keys`. */
function groupBy<R>(keys: readonly string[], rows: readonly R[], keyOf: (r: R) => string): R[][] {
  const m = new Map<string, R[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return keys.map((k) => m.get(k) ?? []);
}

function indexBy<R>(keys: readonly string[], rows: readonly R[], keyOf: (r: R) => string): (R | null)[] {
  const m = new Map<string, R>();
  for (const r of rows) m.set(keyOf(r), r);
  return keys.map((k) => m.get(k) ?? null);
}

/**
 * AND-ed predicates with their parameters: every value travels as a bind parameter, never as SQL.
 * Shared by every filtered read, so a filter, a tenant scope and a cursor compose the same way.
 */
class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  add(predicate: string): this {
    this.parts.push(predicate);
    return this;
  }
  eq(column: string, v: string | undefined): this {
    return v === undefined ? this : this.add(`${column} = ${this.param(v)}`);
  }
  /** A flag list where null means IS NULL; an empty list matches nothing. */
  flags(column: string, flags: readonly (string | null)[] | undefined): this {
    if (flags === undefined) return this;
    const values = flags.filter((f): f is string => f !== null);
    const or: string[] = [];
    if (values.length > 0) or.push(`${column} = ANY(${this.param(values)}::text[])`);
    if (flags.includes(null)) or.push(`${column} IS NULL`);
    return this.add(or.length === 0 ? "FALSE" : `(${or.join(" OR ")})`);
  }
  get sql(): string {
    return this.parts.length === 0 ? "TRUE" : this.parts.join(" AND ");
  }
  clause(): string {
    return this.parts.length === 0 ? "" : `WHERE ${this.sql}`;
  }
}

export class ReadStore {
  /** `ds` is the primary, or a router over read replicas (see readRouting.ts): reads only. */
  constructor(private readonly ds: SqlReader) {}

  async meterPointsByMpxn(mpxns: readonly string[]): Promise<(MeterPointRow | null)[]> {
    const rows: MeterPointRow[] = await this.ds.query(
      `SELECT ${METER_POINT_COLUMNS} FROM meter_point WHERE mpxn = ANY($1::text[])`,
      [mpxns],
    );
    return indexBy(mpxns, rows, (r) => r.mpxn);
  }

  async devicesById(ids: readonly string[]): Promise<(DeviceRow | null)[]> {
    const rows: DeviceRow[] = await this.ds.query(
      `SELECT ${DEVICE_COLUMNS} FROM device WHERE device_id = ANY($1::text[])`,
      [ids],
    );
    return indexBy(ids, rows, (r) => r.device_id);
  }

  /** Devices associated with each meter point now (or ever, with `historic`), oldest association first. */
  async devicesOfMeterPoints(mpxns: readonly string[], historic: boolean): Promise<DeviceRow[][]> {
    const rows: (DeviceRow & { mpxn: string })[] = await this.ds.query(
      `SELECT DISTINCT ON (a.mpxn, d.device_id) a.mpxn, ${DEVICE_COLUMNS.split(", ")
        .map((c) => `d.${c}`)
        .join(", ")}
         FROM device_association a JOIN device d ON d.device_id = a.device_id
        WHERE a.mpxn = ANY($1::text[]) ${historic ? "" : "AND a.ended_at IS NULL"}
        ORDER BY a.mpxn, d.device_id, a.id`,
      [mpxns],
    );
    return groupBy(mpxns, rows, (r) => r.mpxn);
  }

  /** Meter points each device is associated with now. */
  async meterPointsOfDevices(ids: readonly string[]): Promise<MeterPointRow[][]> {
    const rows: (MeterPointRow & { device_id: string })[] = await this.ds.query(
      `SELECT a.device_id, ${METER_POINT_COLUMNS.split(", ")
        .map((c) => `p.${c}`)
        .join(", ")}
         FROM device_association a JOIN meter_point p ON p.mpxn = a.mpxn
        WHERE a.device_id = ANY($1::text[]) AND a.ended_at IS NULL
        ORDER BY a.device_id, a.id`,
      [ids],
    );
    return groupBy(ids, rows, (r) => r.device_id);
  }

  /** Up to `limit` transitions per meter point with sequence > after, ascending. */
  async transitionsOfMeterPoints(
    mpxns: readonly string[],
    after: string | null,
    limit: number,
    asOf: Date | null,
  ): Promise<TransitionRow[][]> {
    const rows: TransitionRow[] = await this.ds.query(
      `SELECT t.* FROM unnest($1::text[]) AS k(mpxn)
        CROSS JOIN LATERAL (
          SELECT ${TRANSITION_COLUMNS} FROM service_flag_transition s
           WHERE s.mpxn = k.mpxn AND s.sequence > $2::bigint
             AND ($4::timestamptz IS NULL OR s.effective_at <= $4::timestamptz)
           ORDER BY s.sequence LIMIT $3) t`,
      [mpxns, after ?? "0", limit, asOf],
    );
    return groupBy(mpxns, rows, (r) => r.mpxn);
  }

  /** The transition in force at each instant: the latest by effective time (then sequence) at or before it. */
  async flagsAt(keys: readonly { mpxn: string; at: Date }[]): Promise<(TransitionRow | null)[]> {
    const rows: (TransitionRow & { ord: string })[] = await this.ds.query(
      `SELECT k.ord::text AS ord, t.* FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS k(mpxn, at, ord)
        CROSS JOIN LATERAL (
          SELECT ${TRANSITION_COLUMNS} FROM service_flag_transition s
           WHERE s.mpxn = k.mpxn AND s.effective_at <= k.at
           ORDER BY s.effective_at DESC, s.sequence DESC LIMIT 1) t`,
      [keys.map((k) => k.mpxn), keys.map((k) => k.at)],
    );
    const byOrd = new Map(rows.map((r) => [Number(r.ord) - 1, r]));
    return keys.map((_, i) => byOrd.get(i) ?? null);
  }

  /**
   * The smart meters associated with each meter point at an instant, each with its status and
   * effective status at that instant (from the histories).
   */
  async devicesAt(keys: readonly { mpxn: string; at: Date }[]): Promise<(DeviceRow & { ord: string })[][]> {
    const rows: (DeviceRow & { ord: string })[] = await this.ds.query(
      `SELECT k.ord::text AS ord, d.device_id, d.device_type, d.smets, d.manufacturer, d.model, d.firmware_version,
              h.status, h.occurred_at AS status_effective_at, h.effective_status, d.last_event_at
         FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS k(mpxn, at, ord)
         JOIN device_association a ON a.mpxn = k.mpxn AND a.begun_at <= k.at AND (a.ended_at IS NULL OR a.ended_at > k.at)
         JOIN device d ON d.device_id = a.device_id
         CROSS JOIN LATERAL (
           SELECT c.status, c.effective_status, c.occurred_at FROM device_status_change c
            WHERE c.device_id = d.device_id AND c.occurred_at <= k.at
            ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1) h
        ORDER BY k.ord, d.device_id`,
      [keys.map((k) => k.mpxn), keys.map((k) => k.at)],
    );
    return groupBy(
      keys.map((_, i) => String(i + 1)),
      rows,
      (r) => String(r.ord),
    );
  }

  async statusHistoryOfDevices(
    ids: readonly string[],
    after: string | null,
    limit: number,
  ): Promise<StatusChangeRow[][]> {
    const rows: StatusChangeRow[] = await this.ds.query(
      `SELECT c.* FROM unnest($1::text[]) AS k(device_id)
        CROSS JOIN LATERAL (
          SELECT s.id::text AS id, s.device_id, s.status, s.effective_status, s.occurred_at, s.event_id, s.recorded_at
            FROM device_status_change s
           WHERE s.device_id = k.device_id AND s.id > $2::bigint
           ORDER BY s.id LIMIT $3) c`,
      [ids, after ?? "0", limit],
    );
    return groupBy(ids, rows, (r) => r.device_id);
  }

  async associationsOfDevices(ids: readonly string[]): Promise<AssociationRow[][]> {
    const rows: AssociationRow[] = await this.ds.query(
      `SELECT ${ASSOCIATION_COLUMNS} FROM device_association WHERE device_id = ANY($1::text[]) ORDER BY device_id, id`,
      [ids],
    );
    return groupBy(ids, rows, (r) => r.device_id);
  }

  async meterPointPage(
    f: MeterPointFilterQuery,
    after: string | null,
    limit: number,
  ): Promise<MeterPointRow[]> {
    const w = new Where()
      .eq("network_operator", f.networkOperator)
      .eq("network_operator", f.scopeNetworkOperator)
      .eq("fuel", f.fuel)
      .eq("supplier", f.supplier)
      .eq("supplier", f.scopeSupplier)
      .flags("service_flag", f.serviceFlags);
    if (after !== null) w.add(`mpxn > ${w.param(after)}`);
    const limitParam = w.param(limit);
    return this.ds.query(
      `SELECT ${METER_POINT_COLUMNS} FROM meter_point ${w.clause()} ORDER BY mpxn LIMIT ${limitParam}`,
      w.params,
    );
  }

  async transitionPage(
    f: TransitionFilterQuery,
    after: string | null,
    limit: number,
  ): Promise<TransitionRow[]> {
    const { sql, params } = transitionWhere(f, after);
    params.push(limit);
    return this.ds.query(
      `SELECT ${TRANSITION_COLUMNS} FROM service_flag_transition WHERE ${sql} ORDER BY sequence LIMIT $${params.length}`,
      params,
    );
  }

  async flagCounts(
    networkOperator: string | undefined,
    fuel: string | undefined,
    scope: Pick<MeterPointFilterQuery, "scopeNetworkOperator" | "scopeSupplier"> = {},
  ): Promise<{ flag: string | null; count: number }[]> {
    // Tenant scope, on top of the client's arguments (which can only narrow it).
    const w = new Where()
      .eq("network_operator", networkOperator)
      .eq("network_operator", scope.scopeNetworkOperator)
      .eq("supplier", scope.scopeSupplier)
      .eq("fuel", fuel);
    const rows: { flag: string | null; count: string }[] = await this.ds.query(
      `SELECT f.flag, COALESCE(c.count, 0)::text AS count
         FROM (VALUES ('A'), ('I'), ('N'), (NULL)) AS f(flag)
         LEFT JOIN (SELECT service_flag, count(*) AS count FROM meter_point ${w.clause()} GROUP BY service_flag) c
           ON c.service_flag IS NOT DISTINCT FROM f.flag`,
      w.params,
    );
    return rows.map((r) => ({ flag: r.flag, count: Number(r.count) }));
  }
}

/** The WHERE clause of a transition query: filters, tenant scope and cursor. Shared with the feed. */
export function transitionWhere(
  f: TransitionFilterQuery,
  after: string | null,
): { sql: string; params: unknown[] } {
  const w = new Where()
    .eq("network_operator", f.networkOperator)
    .eq("network_operator", f.scopeNetworkOperator)
    .eq("supplier", f.scopeSupplier)
    .eq("fuel", f.fuel)
    .flags("to_flag", f.to)
    .flags("from_flag", f.from);
  if (f.mpxns !== undefined) w.add(`mpxn = ANY(${w.param(f.mpxns)}::text[])`);
  w.add(`sequence > ${w.param(after ?? "0")}::bigint`);
  return { sql: w.sql, params: w.params };
}
