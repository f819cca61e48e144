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
  if (keys.eventIds.length > 0) {
    const seen: { event_id: string }[] = await m.query(
      "SELECT event_id FROM applied_event WHERE event_id = ANY($1::text[])",
      [keys.eventIds],
    );
    for (const r of seen) ws.markApplied(r.event_id);
  }
  if (keys.deviceIds.length > 0) {
    const devices: DeviceRow[] = await m.query(
      `SELECT ${DEVICE_COLUMNS} FROM device WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR UPDATE`,
      [keys.deviceIds],
    );
    for (const r of devices) ws.loadDevice(toDeviceState(r));
  }
  const mpxns = new Set(keys.mpxns);
  if (keys.deviceIds.length > 0) {
    const assoc: AssociationRow[] = await m.query(
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
  const mps: MeterPointRow[] = await m.query(
    `SELECT ${METER_POINT_COLUMNS} FROM meter_point WHERE mpxn = ANY($1::text[]) ORDER BY mpxn FOR UPDATE`,
    [mpList],
  );
  for (const r of mps) ws.loadMeterPoint(toMeterPointState(r));
  const others: (AssociationRow & { d_json: DeviceRow | null })[] = await m.query(
    `SELECT a.id, a.device_id, a.mpxn, a.role, a.begun_at, a.ended_at, a.begin_event_id, a.end_event_id,
            CASE WHEN a.device_id = ANY($2::text[]) THEN NULL ELSE to_jsonb(d) END AS d_json
       FROM device_association a JOIN device d ON d.device_id = a.device_id
      WHERE a.mpxn = ANY($1::text[]) AND a.ended_at IS NULL`,
    [mpList, keys.deviceIds],
  );
  for (const r of others) {
    if (r.d_json && !ws.devices.has(r.device_id)) {
      const j = r.d_json;
      ws.loadDevice(
        toDeviceState({
          ...j,
          status_effective_at: new Date(j.status_effective_at),
          last_event_at: new Date(j.last_event_at),
        }),
      );
    }
    ws.loadAssociation(toAssociationState(r));
  }
}

const col = <T, V>(rows: readonly T[], f: (r: T) => V): V[] => rows.map(f);

/**
 * Writes the working set's change log, one statement per table (arrays unnested server-side), and
 * records the applied event ids. Returns the transitions with their sequences, in sequence order.
 */
export async function persistWorkingSet(
  m: EntityManager,
  ws: InventoryWorkingSet,
  appliedEvents: readonly SmiEvent[],
): Promise<StoredTransition[]> {
  if (appliedEvents.length === 0) return [];
  const newDevices = [...ws.newDeviceIds].map((id) => ws.devices.get(id)!);
  const changedDevices = [...ws.changedDeviceIds]
    .filter((id) => !ws.newDeviceIds.has(id))
    .map((id) => ws.devices.get(id)!);
  const deviceArrays = (ds: DeviceState[]) => [
    col(ds, (d) => d.deviceId),
    col(ds, (d) => d.deviceType),
    col(ds, (d) => d.smets),
    col(ds, (d) => d.manufacturer),
    col(ds, (d) => d.model),
    col(ds, (d) => d.firmwareVersion),
    col(ds, (d) => d.status),
    col(ds, (d) => d.statusEffectiveAt),
    col(ds, (d) => d.effectiveStatus),
    col(ds, (d) => d.lastEventAt),
  ];
  const DEVICE_UNNEST = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::timestamptz[], $9::text[], $10::timestamptz[])`;
  if (newDevices.length > 0) {
    await m.query(
      `INSERT INTO device (${DEVICE_COLUMNS}) SELECT * FROM ${DEVICE_UNNEST}`,
      deviceArrays(newDevices),
    );
  }
  if (changedDevices.length > 0) {
    await m.query(
      `UPDATE device d SET smets = u.smets, manufacturer = u.manufacturer, model = u.model,
              firmware_version = u.firmware_version, status = u.status, status_effective_at = u.status_effective_at,
              effective_status = u.effective_status, last_event_at = u.last_event_at
         FROM ${DEVICE_UNNEST} AS u(${DEVICE_COLUMNS})
        WHERE d.device_id = u.device_id`,
      deviceArrays(changedDevices),
    );
  }

  const mpArrays = (ms: MeterPointState[]) => [
    col(ms, (x) => x.mpxn),
    col(ms, (x) => x.fuel),
    col(ms, (x) => x.networkOperator),
    col(ms, (x) => x.supplier),
    col(ms, (x) => x.flag),
    col(ms, (x) => x.flagEffectiveAt),
    col(ms, (x) => x.registeredAt),
    col(ms, (x) => x.lastEventAt),
  ];
  const MP_UNNEST = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
      $7::timestamptz[], $8::timestamptz[])`;
  const newMps = [...ws.newMeterPointIds].map((id) => ws.meterPoints.get(id)!);
  const changedMps = [...ws.changedMeterPointIds]
    .filter((id) => !ws.newMeterPointIds.has(id))
    .map((id) => ws.meterPoints.get(id)!);
  if (newMps.length > 0) {
    await m.query(
      `INSERT INTO meter_point (${METER_POINT_COLUMNS}) SELECT * FROM ${MP_UNNEST}`,
      mpArrays(newMps),
    );
  }
  if (changedMps.length > 0) {
    await m.query(
      `UPDATE meter_point p SET network_operator = u.network_operator, supplier = u.supplier,
              service_flag = u.service_flag, flag_effective_at = u.flag_effective_at, last_event_at = u.last_event_at
         FROM ${MP_UNNEST} AS u(${METER_POINT_COLUMNS})
        WHERE p.mpxn = u.mpxn`,
      mpArrays(changedMps),
    );
  }

  const sc = ws.statusChanges;
  if (sc.length > 0) {
    await m.query(
      `INSERT INTO device_status_change (device_id, status, effective_status, occurred_at, event_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])`,
      [
        col(sc, (x) => x.deviceId),
        col(sc, (x) => x.status),
        col(sc, (x) => x.effectiveStatus),
        col(sc, (x) => x.occurredAt),
        col(sc, (x) => x.eventId),
      ],
    );
  }

  const ended = ws.endedStoredAssociations;
  if (ended.length > 0) {
    await m.query(
      `UPDATE device_association a SET ended_at = u.ended_at, end_event_id = u.end_event_id
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS u(id, ended_at, end_event_id)
        WHERE a.id = u.id`,
      [col(ended, (a) => a.id), col(ended, (a) => a.endedAt), col(ended, (a) => a.endEventId)],
    );
  }
  const begun = ws.begunAssociations;
  if (begun.length > 0) {
    await m.query(
      `INSERT INTO device_association (device_id, mpxn, role, begun_at, ended_at, begin_event_id, end_event_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[])`,
      [
        col(begun, (a) => a.deviceId),
        col(begun, (a) => a.mpxn),
        col(begun, (a) => a.role),
        col(begun, (a) => a.begunAt),
        col(begun, (a) => a.endedAt),
        col(begun, (a) => a.beginEventId),
        col(begun, (a) => a.endEventId),
      ],
    );
  }

  let stored: StoredTransition[] = [];
  const ts = ws.transitions;
  if (ts.length > 0) {
    // Sequences are drawn first and handed out in the batch's order, so the feed's order is the
    // order in which the events changed the flags. The transaction takes its id *before* drawing
    // them: the subscription feed relies on that to know when a sequence is settled.
    await m.query("SELECT pg_current_xact_id()");
    const seqRows: { s: string }[] = await m.query(
      "SELECT nextval('service_flag_transition_sequence_seq')::text AS s FROM generate_series(1, $1::int)",
      [ts.length],
    );
    const seqs = seqRows.map((r) => BigInt(r.s)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rows: TransitionRow[] = await m.query(
      `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
              contributing_device_ids, effective_at, cause_event_id)
       SELECT u.sequence, u.mpxn, u.fuel, u.network_operator, u.supplier, u.from_flag, u.to_flag, u.rule,
              string_to_array(u.contributing, ','), u.effective_at, u.cause_event_id
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::timestamptz[], $11::text[])
           AS u(sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule, contributing, effective_at, cause_event_id)
       RETURNING ${TRANSITION_COLUMNS}`,
      [
        seqs.map(String),
        col(ts, (t) => t.mpxn),
        col(ts, (t) => t.fuel),
        col(ts, (t) => t.networkOperator),
        col(ts, (t) => t.supplier),
        col(ts, (t) => t.from),
        col(ts, (t) => t.to),
        col(ts, (t) => t.decision.rule),
        col(ts, (t) => t.decision.contributingDeviceIds.join(",")),
        col(ts, (t) => t.effectiveAt),
        col(ts, (t) => t.causeEventId),
      ],
    );
    stored = rows.map(toStoredTransition).sort((a, b) => (BigInt(a.sequence) < BigInt(b.sequence) ? -1 : 1));
    // A wake-up for every instance's subscription feed; it carries no data (SPEC §6).
    await m.query("SELECT pg_notify('smi_transition', '')");
  }

  await m.query(
    `INSERT INTO applied_event (event_id, event_type, occurred_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`,
    [
      col(appliedEvents, (e) => e.eventId),
      col(appliedEvents, (e) => e.type),
      col(appliedEvents, (e) => e.occurredAt),
    ],
  );
  return stored;
}
