import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type PoolClient, types } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { type EntityManager } from "typeorm";
import { type AssociationRole, type DeviceType, type SmiDeviceStatus } from "../domain/device";
import { type SmiEvent } from "../domain/events";
import { type Fuel } from "../domain/identifiers";
import {
  type AssociationState,
  type DeviceState,
  type InventoryWorkingSet,
  type MeterPointState,
} from "../domain/inventory";
import { type FlagRule, type ServiceFlagValue, parseServiceFlag } from "../domain/serviceFlag";

/** A transition as stored: the domain transition plus its place in the global feed. */
export interface StoredTransition {
  readonly sequence: string;
  readonly mpxn: string;
  readonly fuel: Fuel;
  readonly networkOperator: string | null;
  readonly supplier: string | null;
  readonly from: ServiceFlagValue;
  readonly to: ServiceFlagValue;
  readonly rule: FlagRule;
  readonly contributingDeviceIds: readonly string[];
  readonly effectiveAt: Date;
  readonly recordedAt: Date;
  readonly causeEventId: string;
}

export interface TransitionRow {
  sequence: string;
  mpxn: string;
  fuel: string;
  network_operator: string | null;
  supplier: string | null;
  from_flag: string | null;
  to_flag: string | null;
  rule: string;
  contributing_device_ids: string[];
  effective_at: Date;
  recorded_at: Date;
  cause_event_id: string;
}

export const TRANSITION_COLUMNS =
  "sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule, contributing_device_ids, effective_at, recorded_at, cause_event_id";

export function toStoredTransition(r: TransitionRow): StoredTransition {
  return {
    sequence: String(r.sequence),
    mpxn: r.mpxn,
    fuel: r.fuel as Fuel,
    networkOperator: r.network_operator,
    supplier: r.supplier,
    from: parseServiceFlag(r.from_flag),
    to: parseServiceFlag(r.to_flag),
    rule: r.rule as FlagRule,
    contributingDeviceIds: r.contributing_device_ids,
    effectiveAt: r.effective_at,
    recordedAt: r.recorded_at,
    causeEventId: r.cause_event_id,
  };
}

export interface DeviceRow {
  device_id: string;
  device_type: string;
  smets: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware_version: string | null;
  status: string;
  status_effective_at: Date;
  effective_status: string | null;
  last_event_at: Date;
}
export const DEVICE_COLUMNS =
  "device_id, device_type, smets, manufacturer, model, firmware_version, status, status_effective_at, effective_status, last_event_at";

export function toDeviceState(r: DeviceRow): DeviceState {
  return {
    deviceId: r.device_id,
    deviceType: r.device_type as DeviceType,
    smets: r.smets,
    manufacturer: r.manufacturer,
    model: r.model,
    firmwareVersion: r.firmware_version,
    status: r.status as SmiDeviceStatus,
    statusEffectiveAt: r.status_effective_at,
    effectiveStatus: r.effective_status as SmiDeviceStatus | null,
    lastEventAt: r.last_event_at,
  };
}

export interface MeterPointRow {
  mpxn: string;
  fuel: string;
  network_operator: string | null;
  supplier: string | null;
  service_flag: string | null;
  flag_effective_at: Date | null;
  registered_at: Date;
  last_event_at: Date;
}
export const METER_POINT_COLUMNS =
  "mpxn, fuel, network_operator, supplier, service_flag, flag_effective_at, registered_at, last_event_at";

export function toMeterPointState(r: MeterPointRow): MeterPointState {
  return {
    mpxn: r.mpxn,
    fuel: r.fuel as Fuel,
    networkOperator: r.network_operator,
    supplier: r.supplier,
    flag: parseServiceFlag(r.service_flag),
    flagEffectiveAt: r.flag_effective_at,
    registeredAt: r.registered_at,
    lastEventAt: r.last_event_at,
  };
}

export interface AssociationRow {
  id: string;
  device_id: string;
  mpxn: string;
  role: string;
  begun_at: Date;
  ended_at: Date | null;
  begin_event_id: string;
  end_event_id: string | null;
}
export const ASSOCIATION_COLUMNS =
  "id, device_id, mpxn, role, begun_at, ended_at, begin_event_id, end_event_id";

function toAssociationState(r: AssociationRow): AssociationState {
  return {
    id: String(r.id),
    deviceId: r.device_id,
    mpxn: r.mpxn,
    role: r.role as AssociationRole,
    begunAt: r.begun_at,
    beginEventId: r.begin_event_id,
    endedAt: r.ended_at,
    endEventId: r.end_event_id,
  };
}

const PG_TIMESTAMPTZ = 1184;
const PG_TEXT_TIMESTAMPTZ = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,3})?)([+-]\d\d)(?::(\d\d))?$/;
const defaultTimestamptz = types.getTypeParser(PG_TIMESTAMPTZ, "text") as (text: string) => Date;

/**
 * PostgreSQL's text form of a timestamptz (`2026-03-01 09:00:00.123+00`, as sent with DateStyle
 * ISO) read digit by digit, several times faster than pg's general parser, which showed as a tenth
 * of a mass event's Node time (a batch loads several instants per event). Anything else (more than
 * millisecond digits, offsets with seconds, years before 100 or after 9999, BC, infinity) goes to
 * pg's parser, so the result is the same Date either way.
 */
export function parseTimestamptz(text: string): Date {
  if (!PG_TEXT_TIMESTAMPTZ.test(text)) return defaultTimestamptz(text);
  const d = (i: number) => text.charCodeAt(i) - 48;
  const year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  if (year < 100) return defaultTimestamptz(text); // Date.UTC would read 0044 as 1944
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    // At most three digits (the pattern says so): tenths, hundredths, thousandths of a second.
    let scale = 100;
    for (i++; d(i) >= 0 && d(i) <= 9; i++, scale /= 10) ms += d(i) * scale;
  }
  const sign = text.charCodeAt(i) === 45 /* - */ ? -1 : 1;
  const offsetMinutes =
    (d(i + 1) * 10 + d(i + 2)) * 60 + (text.length > i + 3 ? d(i + 4) * 10 + d(i + 5) : 0);
  const utc = Date.UTC(
    year,
    d(5) * 10 + d(6) - 1,
    d(8) * 10 + d(9),
    d(11) * 10 + d(12),
    d(14) * 10 + d(15),
    d(17) * 10 + d(18),
    ms,
  );
  return new Date(utc - sign * offsetMinutes * 60_000);
}

/** The type parsers of the working set's loads: pg's, but the faster one for timestamptz. */
const LOAD_TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === PG_TIMESTAMPTZ && format !== "binary"
      ? parseTimestamptz
      : types.getTypeParser(oid, format ?? "text")) as typeof types.getTypeParser,
};

/**
 * Locks and loads everything a batch touches into the working set, in a fixed number of statements
 * whatever the batch size. Lock order is always devices (sorted) then meter points (sorted), so two
 * concurrent batches never wait on each other in a cycle; a device or meter point that two batches
 * both create surfaces as a unique violation, and the batch is retried.
 *
 * Devices associated with the batch's meter points but not named by it are read without a lock:
 * anyone changing them must first lock the meter point, which we hold.
 */
export async function loadWorkingSet(
  m: EntityManager,
  ws: InventoryWorkingSet,
  keys: { eventIds: string[]; deviceIds: string[]; mpxns: string[] },
): Promise<void> {
  const client = await rawClient(m);
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    m.connection.logger.logQuery(sql, params, m.queryRunner);
    return (await client.query({ text: sql, values: params, types: LOAD_TYPES })).rows as T[];
  };
  if (keys.eventIds.length > 0) {
    const seen: { event_id: string }[] = await query(
      "SELECT event_id FROM applied_event WHERE event_id = ANY($1::text[])",
      [keys.eventIds],
    );
    for (const r of seen) ws.markApplied(r.event_id);
  }
  if (keys.deviceIds.length > 0) {
    const devices: DeviceRow[] = await query(
      `SELECT ${DEVICE_COLUMNS} FROM device WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR UPDATE`,
      [keys.deviceIds],
    );
    for (const r of devices) ws.loadDevice(toDeviceState(r));
  }
  const mpxns = new Set(keys.mpxns);
  if (keys.deviceIds.length > 0) {
    const assoc: AssociationRow[] = await query(
      `SELECT ${ASSOCIATION_COLUMNS} FROM device_association WHERE device_id = ANY($1::text[]) AND ended_at IS NULL`,
      [keys.deviceIds],
    );
    for (const r of assoc) {
      mpxns.add(r.mpxn);
      ws.loadAssociation(toAssociationState(r));
    }
  }
  if (mpxns.size === 0) return;
  const mpList = [...mpxns];
  const mps: MeterPointRow[] = await query(
    `SELECT ${METER_POINT_COLUMNS} FROM meter_point WHERE mpxn = ANY($1::text[]) ORDER BY mpxn FOR UPDATE`,
    [mpList],
  );
  for (const r of mps) ws.loadMeterPoint(toMeterPointState(r));
  // The devices associated with these meter points that the batch does not name come in the same
  // statement, as plain columns (no lock: see above). The named ones and all their active
  // associations are already loaded, so they are left out (in a mass event they are nearly all).
  const others: (AssociationRow & {
    d_type: string;
    d_smets: string | null;
    d_manufacturer: string | null;
    d_model: string | null;
    d_firmware_version: string | null;
    d_status: string;
    d_status_effective_at: Date;
    d_effective_status: string | null;
    d_last_event_at: Date;
  })[] = await query(
    `SELECT a.id, a.device_id, a.mpxn, a.role, a.begun_at, a.ended_at, a.begin_event_id, a.end_event_id,
            d.device_type AS d_type, d.smets AS d_smets, d.manufacturer AS d_manufacturer, d.model AS d_model,
            d.firmware_version AS d_firmware_version, d.status AS d_status,
            d.status_effective_at AS d_status_effective_at, d.effective_status AS d_effective_status,
            d.last_event_at AS d_last_event_at
       FROM device_association a JOIN device d ON d.device_id = a.device_id
      WHERE a.mpxn = ANY($1::text[]) AND a.ended_at IS NULL AND a.device_id <> ALL($2::text[])`,
    [mpList, keys.deviceIds],
  );
  for (const r of others) {
    if (!ws.devices.has(r.device_id)) {
      ws.loadDevice(
        toDeviceState({
          device_id: r.device_id,
          device_type: r.d_type,
          smets: r.d_smets,
          manufacturer: r.d_manufacturer,
          model: r.d_model,
          firmware_version: r.d_firmware_version,
          status: r.d_status,
          status_effective_at: r.d_status_effective_at,
          effective_status: r.d_effective_status,
          last_event_at: r.d_last_event_at,
        }),
      );
    }
    ws.loadAssociation(toAssociationState(r));
  }
}

/**
 * The columns a batch writes into each table when it inserts rows (the rest are defaults and
 * identities), in the order persistWorkingSet writes the tables. The ingest benchmark uses the same
 * list to measure the cost of storing these rows alone.
 */
export const INSERTED_COLUMNS = {
  applied_event: "event_id, event_type, occurred_at",
  device: DEVICE_COLUMNS,
  meter_point: METER_POINT_COLUMNS,
  device_status_change: "device_id, status, effective_status, occurred_at, event_id",
  device_association: "device_id, mpxn, role, begun_at, ended_at, begin_event_id, end_event_id",
  service_flag_transition:
    "sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule, contributing_device_ids, effective_at, cause_event_id",
} as const;

/**
 * At or above this many rows a table's new rows go in with `COPY ... FROM STDIN` rather than one
 * `INSERT ... SELECT FROM unnest(...)`. COPY skips building, sending and unnesting PostgreSQL arrays
 * (client and server both spend most of an unnest insert there), so bulk batches write about twice
 * as fast; below it the live mutation's small batches keep plain statements, which the statement
 * counter of tests and benchmarks sees.
 */
export const COPY_THRESHOLD = 256;

type CopyValue = string | Date | null;

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const escapeCopy = (c: string) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r");

const DAY_MS = 86_400_000;
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
let cachedDay = NaN;
let cachedDayPrefix = "";

/**
 * `d.toISOString()`, about ten times faster: the date part (`2026-03-01T`) comes from a one-day
 * cache, since a bulk batch's instants crowd into few days, and only the time of day is formatted.
 * toISOString costs about a microsecond, and a bulk batch formats several instants per row.
 */
export function isoInstant(d: Date): string {
  const t = d.getTime();
  const day = Math.floor(t / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, -13);
  }
  const ms = t - day * DAY_MS;
  return `${cachedDayPrefix}${pad2(Math.floor(ms / 3_600_000))}:${pad2(Math.floor(ms / 60_000) % 60)}:${pad2(
    Math.floor(ms / 1000) % 60,
  )}.${pad3(ms % 1000)}Z`;
}

/** COPY text format: tab-separated, `\N` for null, backslash escapes for the four specials. */
function copyField(v: CopyValue): string {
  if (v === null) return "\\N";
  if (typeof v !== "string") return isoInstant(v); // never holds a special
  return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, escapeCopy) : v;
}

/** One COPY line (without map/join allocations: this runs for every row of a bulk batch). */
function copyLine(r: readonly CopyValue[]): string {
  let line = copyField(r[0]!);
  for (let i = 1; i < r.length; i++) line += "\t" + copyField(r[i]!);
  return line + "\n";
}

/** The pg client under a TypeORM transaction: COPY needs the raw protocol. */
async function rawClient(m: EntityManager): Promise<PoolClient> {
  if (!m.queryRunner)
    throw new Error("expected an EntityManager inside a transaction, got one without a query runner");
  return (await m.queryRunner.connect()) as PoolClient;
}

/**
 * The write statements of one batch, issued without the caller waiting for each reply: every call
 * chains onto the previous statement, so the server runs them one after another in the order they
 * were issued (the order written below), while building the next statement's rows overlaps the
 * server's work on the previous one. The chaining is ours, not pg's: pg 8 deprecates (and pg 9
 * removes) calling `query()` on a client that is still executing one. After a failure nothing more
 * is sent; every later statement reports the same failure. Every statement still goes through the
 * data source's logger, so statement counters see them as before.
 */
class StatementQueue {
  private readonly pending: Promise<unknown>[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly m: EntityManager,
    private readonly client: PoolClient,
  ) {}

  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.m.connection.logger.logQuery(sql, params, this.m.queryRunner);
    return this.track(() => this.client.query(sql, params).then((r) => r.rows as T[]));
  }

  /** Streams rows in with COPY, in chunks so memory stays bounded whatever the batch. */
  copy(table: string, columns: string, rows: readonly (readonly CopyValue[])[]): Promise<void> {
    function* chunks(): Generator<string> {
      let buf = "";
      for (const r of rows) {
        buf += copyLine(r);
        if (buf.length > 1 << 16) {
          yield buf;
          buf = "";
        }
      }
      if (buf.length > 0) yield buf;
    }
    return this.track(() =>
      pipeline(Readable.from(chunks()), this.client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`))),
    );
  }

  /**
   * The result of one statement. When anything failed, waits for every statement issued so far and
   * throws the first failure in issue order: the statements after it only report the aborted
   * transaction, and the first one's code is what decides a retry.
   */
  async result<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      await this.settle();
      throw e;
    }
  }

  /** Waits for every statement; throws the first failure in issue order. */
  async settle(): Promise<void> {
    const outcomes = await Promise.allSettled(this.pending);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Runs `send` once every statement issued before it has finished (and none failed). */
  private track<T>(send: () => Promise<T>): Promise<T> {
    const p = this.tail.then(send);
    this.tail = p;
    this.pending.push(p);
    p.catch(() => undefined); // reported through result() or settle()
    return p;
  }
}

/**
 * Inserts rows set-based: COPY for many, one unnest INSERT for few. `types` are the PostgreSQL
 * array types of the columns (for the unnest form).
 */
function insertRows(
  q: StatementQueue,
  table: string,
  columns: string,
  types: readonly string[],
  rows: readonly (readonly CopyValue[])[],
): void {
  if (rows.length === 0) return;
  if (rows.length >= COPY_THRESHOLD) {
    void q.copy(table, columns, rows);
    return;
  }
  const arrays = types.map((_, i) => rows.map((r) => r[i] ?? null));
  // An array-typed column travels as its text literal (as in COPY) and is cast after unnesting.
  const unnest = types.map((t, i) => `$${i + 1}::${t.endsWith("[]") ? "text" : t}[]`).join(", ");
  const select = types.map((t, i) => (t.endsWith("[]") ? `c${i}::${t}` : `c${i}`)).join(", ");
  const names = types.map((_, i) => `c${i}`).join(", ");
  void q.query(
    `INSERT INTO ${table} (${columns}) SELECT ${select} FROM unnest(${unnest}) AS u(${names})`,
    arrays,
  );
}

/**
 * Updates rows set-based, matched on `key`: for many rows, they go by COPY into a temporary
 * staging table (dropped at commit) and one `UPDATE ... FROM` it; for few, one `UPDATE ... FROM
 * unnest(...)`. COPY spares the client pg's per-element array serialisation (slow for instants),
 * which made a mass event's updates cost more in Node than everything else. `types` are the
 * PostgreSQL types of `columns`, in order; `rows` hold values in that order.
 */
function updateRows(
  q: StatementQueue,
  u: {
    table: string;
    columns: string;
    types: readonly string[];
    key: readonly string[];
    set: readonly string[];
    rows: readonly (readonly CopyValue[])[];
  },
): void {
  if (u.rows.length === 0) return;
  const assignments = u.set.map((c) => `${c} = u.${c}`).join(", ");
  const match = u.key.map((c) => `t.${c} = u.${c}`).join(" AND ");
  if (u.rows.length >= COPY_THRESHOLD) {
    const names = u.columns.split(",").map((c) => c.trim());
    const staging = `${u.table}_changes`;
    void q.query(
      `CREATE TEMPORARY TABLE ${staging} (${names.map((c, i) => `${c} ${u.types[i]}`).join(", ")}) ON COMMIT DROP`,
    );
    void q.copy(staging, u.columns, u.rows);
    void q.query(`UPDATE ${u.table} t SET ${assignments} FROM ${staging} u WHERE ${match}`);
    return;
  }
  void q.query(
    `UPDATE ${u.table} t SET ${assignments}
       FROM unnest(${u.types.map((t, i) => `$${i + 1}::${t}[]`).join(", ")}) AS u(${u.columns})
      WHERE ${match}`,
    u.types.map((_, i) => u.rows.map((r) => r[i] ?? null)),
  );
}

/**
 * Records the applied event ids and writes the working set's change log set-based, one statement
 * per table (COPY for many new rows, an unnest INSERT for few; updates through unnested arrays).
 * Returns the transitions with their sequences, in sequence order.
 */
export async function persistWorkingSet(
  m: EntityManager,
  ws: InventoryWorkingSet,
  appliedEvents: readonly SmiEvent[],
): Promise<StoredTransition[]> {
  if (appliedEvents.length === 0) return [];
  const q = new StatementQueue(m, await rawClient(m));
  // The event ids first: when a bulk batch skipped their look-up (EventApplier) and one was already
  // applied, the primary key stops the batch here, before any other write is sent.
  insertRows(
    q,
    "applied_event",
    INSERTED_COLUMNS.applied_event,
    ["text", "text", "timestamptz"],
    appliedEvents.map((e) => [e.eventId, e.type, e.occurredAt]),
  );
  const newDevices = [...ws.newDeviceIds].map((id) => ws.devices.get(id)!);
  const changedDevices = [...ws.changedDeviceIds]
    .filter((id) => !ws.newDeviceIds.has(id))
    .map((id) => ws.devices.get(id)!);
  const deviceRow = (d: DeviceState): CopyValue[] => [
    d.deviceId,
    d.deviceType,
    d.smets,
    d.manufacturer,
    d.model,
    d.firmwareVersion,
    d.status,
    d.statusEffectiveAt,
    d.effectiveStatus,
    d.lastEventAt,
  ];
  const DEVICE_TYPES = [
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "text",
    "timestamptz",
  ];
  insertRows(q, "device", INSERTED_COLUMNS.device, DEVICE_TYPES, newDevices.map(deviceRow));
  updateRows(q, {
    table: "device",
    columns: DEVICE_COLUMNS,
    types: DEVICE_TYPES,
    key: ["device_id"],
    set: [
      "smets",
      "manufacturer",
      "model",
      "firmware_version",
      "status",
      "status_effective_at",
      "effective_status",
      "last_event_at",
    ],
    rows: changedDevices.map(deviceRow),
  });

  const mpRow = (x: MeterPointState): CopyValue[] => [
    x.mpxn,
    x.fuel,
    x.networkOperator,
    x.supplier,
    x.flag,
    x.flagEffectiveAt,
    x.registeredAt,
    x.lastEventAt,
  ];
  const MP_TYPES = ["text", "text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz"];
  const newMps = [...ws.newMeterPointIds].map((id) => ws.meterPoints.get(id)!);
  const changedMps = [...ws.changedMeterPointIds]
    .filter((id) => !ws.newMeterPointIds.has(id))
    .map((id) => ws.meterPoints.get(id)!);
  insertRows(q, "meter_point", INSERTED_COLUMNS.meter_point, MP_TYPES, newMps.map(mpRow));
  updateRows(q, {
    table: "meter_point",
    columns: METER_POINT_COLUMNS,
    types: MP_TYPES,
    key: ["mpxn"],
    set: ["network_operator", "supplier", "service_flag", "flag_effective_at", "last_event_at"],
    rows: changedMps.map(mpRow),
  });

  insertRows(
    q,
    "device_status_change",
    INSERTED_COLUMNS.device_status_change,
    ["text", "text", "text", "timestamptz", "text"],
    ws.statusChanges.map((x) => [x.deviceId, x.status, x.effectiveStatus, x.occurredAt, x.eventId]),
  );

  updateRows(q, {
    table: "device_association",
    columns: "device_id, id, ended_at, end_event_id",
    types: ["text", "bigint", "timestamptz", "text"],
    key: ["device_id", "id"],
    set: ["ended_at", "end_event_id"],
    rows: ws.endedStoredAssociations.map((a) => [a.deviceId, a.id, a.endedAt, a.endEventId]),
  });
  insertRows(
    q,
    "device_association",
    INSERTED_COLUMNS.device_association,
    ["text", "text", "text", "timestamptz", "timestamptz", "text", "text"],
    ws.begunAssociations.map((a) => [
      a.deviceId,
      a.mpxn,
      a.role,
      a.begunAt,
      a.endedAt,
      a.beginEventId,
      a.endEventId,
    ]),
  );

  let stored: StoredTransition[] = [];
  const ts = ws.transitions;
  if (ts.length > 0) {
    // Sequences are drawn first and handed out in the batch's order, so the feed's order is the
    // order in which the events changed the flags. The transaction takes its id *before* drawing
    // them: the subscription feed relies on that to know when a sequence is settled. The same
    // statement reads the transaction's now(), which is what recorded_at's default stores.
    // The feed's wake-up (SPEC §6) rides on the same statement: a notification is delivered at
    // commit whenever in the transaction it is issued, and never if the transaction rolls back.
    // The sequences are drawn only once the transaction id is known (awaited, not just queued).
    const [tx] = await q.result(
      q.query<{ xid: string; now: Date }>(
        "SELECT pg_current_xact_id()::text AS xid, now() AS now, pg_notify('smi_transition', '') AS notified",
      ),
    );
    const seqRows = await q.result(
      q.query<{ s: string }>(
        "SELECT nextval('service_flag_transition_sequence_seq')::text AS s FROM generate_series(1, $1::int)",
        [ts.length],
      ),
    );
    const seqs = seqRows.map((r) => BigInt(r.s)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    stored = ts.map((t, i) => ({
      sequence: String(seqs[i]!),
      mpxn: t.mpxn,
      fuel: t.fuel,
      networkOperator: t.networkOperator,
      supplier: t.supplier,
      from: t.from,
      to: t.to,
      rule: t.decision.rule,
      contributingDeviceIds: [...t.decision.contributingDeviceIds],
      effectiveAt: t.effectiveAt,
      recordedAt: tx!.now,
      causeEventId: t.causeEventId,
    }));
    // Device ids are EUI-64 (hex and hyphens), so the array literal needs no quoting.
    insertRows(
      q,
      "service_flag_transition",
      INSERTED_COLUMNS.service_flag_transition,
      ["bigint", "text", "text", "text", "text", "text", "text", "text", "text[]", "timestamptz", "text"],
      stored.map((t) => [
        t.sequence,
        t.mpxn,
        t.fuel,
        t.networkOperator,
        t.supplier,
        t.from,
        t.to,
        t.rule,
        `{${t.contributingDeviceIds.join(",")}}`,
        t.effectiveAt,
        t.causeEventId,
      ]),
    );
  }

  await q.settle();
  return stored;
}
