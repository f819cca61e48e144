import {
  AssociationRole,
  type DeviceType,
  type SmiDeviceStatus,
  parseAssociationRole,
  parseDeviceType,
  parseSmiDeviceStatus,
} from "./device";
import { DomainError, describeReceived } from "./DomainError";
import { type ParsedMpxn, parseDeviceId, parseMpxn } from "./identifiers";

/** Event types, with the spellings of NDJSON files (SPEC §3) as values. */
export enum EventType {
  METER_POINT_REGISTERED = "MeterPointRegistered",
  SUPPLIER_CHANGED = "SupplierChanged",
  DEVICE_REGISTERED = "DeviceRegistered",
  DEVICE_ASSOCIATED = "DeviceAssociated",
  DEVICE_DISASSOCIATED = "DeviceDisassociated",
  DEVICE_STATUS_CHANGED = "DeviceStatusChanged",
}

interface EventBase {
  readonly eventId: string;
  readonly occurredAt: Date;
}
export interface MeterPointRegistered extends EventBase {
  readonly type: EventType.METER_POINT_REGISTERED;
  readonly mpxn: ParsedMpxn;
  readonly supplier: string | null;
  readonly networkOperator: string | null;
}
export interface SupplierChanged extends EventBase {
  readonly type: EventType.SUPPLIER_CHANGED;
  readonly mpxn: ParsedMpxn;
  readonly supplier: string;
}
export interface DeviceRegistered extends EventBase {
  readonly type: EventType.DEVICE_REGISTERED;
  readonly deviceId: string;
  readonly deviceType: DeviceType;
  readonly smets: string | null;
  readonly manufacturer: string | null;
  readonly model: string | null;
  readonly firmwareVersion: string | null;
}
export interface DeviceAssociated extends EventBase {
  readonly type: EventType.DEVICE_ASSOCIATED;
  readonly deviceId: string;
  readonly mpxn: ParsedMpxn;
  readonly role: AssociationRole;
}
export interface DeviceDisassociated extends EventBase {
  readonly type: EventType.DEVICE_DISASSOCIATED;
  readonly deviceId: string;
  readonly mpxn: ParsedMpxn;
}
export interface DeviceStatusChanged extends EventBase {
  readonly type: EventType.DEVICE_STATUS_CHANGED;
  readonly deviceId: string;
  readonly status: SmiDeviceStatus;
}
export type SmiEvent =
  | MeterPointRegistered
  | SupplierChanged
  | DeviceRegistered
  | DeviceAssociated
  | DeviceDisassociated
  | DeviceStatusChanged;

/** The fields each type may carry, besides eventId, occurredAt and type. */
const FIELDS: Readonly<Record<EventType, readonly string[]>> = {
  [EventType.METER_POINT_REGISTERED]: ["mpxn", "supplier", "networkOperator"],
  [EventType.SUPPLIER_CHANGED]: ["mpxn", "supplier"],
  [EventType.DEVICE_REGISTERED]: [
    "deviceId",
    "deviceType",
    "smets",
    "manufacturer",
    "model",
    "firmwareVersion",
  ],
  [EventType.DEVICE_ASSOCIATED]: ["deviceId", "mpxn", "role"],
  [EventType.DEVICE_DISASSOCIATED]: ["deviceId", "mpxn"],
  [EventType.DEVICE_STATUS_CHANGED]: ["deviceId", "status"],
};
const ALLOWED: Readonly<Record<EventType, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(FIELDS).map(([type, fields]) => [
    type,
    new Set(["eventId", "occurredAt", "type", ...fields]),
  ]),
) as unknown as Record<EventType, ReadonlySet<string>>;
const EVENT_TYPES = Object.values(EventType) as string[];
const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
export const MAX_EVENT_ID_LENGTH = 200;
export const MAX_TEXT_LENGTH = 100;

/** The event id of a raw event, when it has a usable one (for rejection reports). */
export function peekEventId(raw: unknown): string | null {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    const id = (raw as Record<string, unknown>).eventId;
    if (typeof id === "string" && id.length > 0) return id.slice(0, MAX_EVENT_ID_LENGTH);
  }
  return null;
}

function invalid(message: string): never {
  throw new DomainError("INVALID_EVENT", message);
}

function parseInstant(value: unknown): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === "string" && ISO_INSTANT.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return invalid(
    `expected occurredAt as an ISO-8601 instant with a time zone (e.g. 2026-03-01T09:00:00Z), got ${describeReceived(value)}`,
  );
}

function optionalText(raw: Record<string, unknown>, field: string): string | null {
  const v = raw[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.trim() === "" || v.length > MAX_TEXT_LENGTH) {
    return invalid(
      `expected ${field} as a non-empty string of at most ${MAX_TEXT_LENGTH} characters, got ${describeReceived(v)}`,
    );
  }
  return v.trim();
}

function requiredText(raw: Record<string, unknown>, field: string, type: string): string {
  const v = optionalText(raw, field);
  if (v === null) return invalid(`expected ${field} on a ${type} event, got nothing`);
  return v;
}

function required(raw: Record<string, unknown>, field: string, type: string): unknown {
  const v = raw[field];
  if (v === undefined || v === null) return invalid(`expected ${field} on a ${type} event, got nothing`);
  return v;
}

/**
 * Validates one raw event (a parsed NDJSON line, or a GraphQL EventInput whose enums are already
 * mapped to the NDJSON spellings). The only validator of events: both doors use it.
 */
export function parseEvent(raw: unknown): SmiEvent {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return invalid(`expected an event object, got ${describeReceived(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const eventId = r.eventId;
  if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > MAX_EVENT_ID_LENGTH) {
    return invalid(
      `expected eventId as a non-empty string of at most ${MAX_EVENT_ID_LENGTH} characters, got ${describeReceived(eventId)}`,
    );
  }
  if (typeof r.type !== "string" || !EVENT_TYPE_SET.has(r.type)) {
    return invalid(`expected type to be one of ${EVENT_TYPES.join(", ")}, got ${describeReceived(r.type)}`);
  }
  const type = r.type as EventType;
  const occurredAt = parseInstant(r.occurredAt);
  // The hot loop of bulk ingest: one pass over the keys, set look-ups, no intermediate arrays.
  const allowed = ALLOWED[type];
  for (const k in r) {
    const v = r[k];
    if (v === undefined || v === null || allowed.has(k)) continue;
    return invalid(
      `field ${k} does not belong on a ${type} event (expected only ${FIELDS[type].join(", ")})`,
    );
  }
  // Object literals, not spreads of a shared base: a spread costs microseconds per event in V8 and
  // gives each event type one stable shape.
  switch (type) {
    case EventType.METER_POINT_REGISTERED:
      return {
        eventId,
        occurredAt,
        type,
        mpxn: parseMpxn(required(r, "mpxn", type)),
        supplier: optionalText(r, "supplier"),
        networkOperator: optionalText(r, "networkOperator"),
      };
    case EventType.SUPPLIER_CHANGED:
      return {
        eventId,
        occurredAt,
        type,
        mpxn: parseMpxn(required(r, "mpxn", type)),
        supplier: requiredText(r, "supplier", type),
      };
    case EventType.DEVICE_REGISTERED:
      return {
        eventId,
        occurredAt,
        type,
        deviceId: parseDeviceId(required(r, "deviceId", type)),
        deviceType: parseDeviceType(required(r, "deviceType", type)),
        smets: optionalText(r, "smets"),
        manufacturer: optionalText(r, "manufacturer"),
        model: optionalText(r, "model"),
        firmwareVersion: optionalText(r, "firmwareVersion"),
      };
    case EventType.DEVICE_ASSOCIATED:
      return {
        eventId,
        occurredAt,
        type,
        deviceId: parseDeviceId(required(r, "deviceId", type)),
        mpxn: parseMpxn(required(r, "mpxn", type)),
        role: r.role === undefined || r.role === null ? AssociationRole.IMPORT : parseAssociationRole(r.role),
      };
    case EventType.DEVICE_DISASSOCIATED:
      return {
        eventId,
        occurredAt,
        type,
        deviceId: parseDeviceId(required(r, "deviceId", type)),
        mpxn: parseMpxn(required(r, "mpxn", type)),
      };
    case EventType.DEVICE_STATUS_CHANGED:
      return {
        eventId,
        occurredAt,
        type,
        deviceId: parseDeviceId(required(r, "deviceId", type)),
        status: parseSmiDeviceStatus(required(r, "status", type)),
      };
  }
}

/** The device and meter point an event names (SPEC §3: what staleness compares against). */
export function namedKeys(e: SmiEvent): { deviceId: string | null; mpxn: string | null } {
  switch (e.type) {
    case EventType.METER_POINT_REGISTERED:
    case EventType.SUPPLIER_CHANGED:
      return { deviceId: null, mpxn: e.mpxn.mpxn };
    case EventType.DEVICE_REGISTERED:
    case EventType.DEVICE_STATUS_CHANGED:
      return { deviceId: e.deviceId, mpxn: null };
    case EventType.DEVICE_ASSOCIATED:
    case EventType.DEVICE_DISASSOCIATED:
      return { deviceId: e.deviceId, mpxn: e.mpxn.mpxn };
  }
}
