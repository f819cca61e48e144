import { type DeviceType, type SmiDeviceStatus } from "../domain/device";
import { type Fuel } from "../domain/identifiers";
import { type DccServiceFlag, parseServiceFlag } from "../domain/serviceFlag";
import {
  type DeviceRow,
  type MeterPointRow,
  type TransitionRow,
  toStoredTransition,
} from "../persistence/inventoryStore";
import { type StoredTransition } from "../persistence/inventoryStore";
import { type DeviceView } from "./types/device.type";
import { type MeterPointView } from "./types/meterPoint.type";

/** Rows (and stored values) → the plain objects the GraphQL types resolve from. */
export function meterPointView(
  r: MeterPointRow,
  asOf: Date | null = null,
  flagAt?: TransitionRow | null,
): MeterPointView {
  const base = {
    mpxn: r.mpxn,
    fuel: r.fuel as Fuel,
    networkOperator: r.network_operator,
    supplier: r.supplier,
    asOf,
  };
  if (asOf === null) {
    return {
      ...base,
      serviceFlag: parseServiceFlag(r.service_flag) as DccServiceFlag | null,
      serviceFlagEffectiveAt: r.flag_effective_at,
    };
  }
  return {
    ...base,
    serviceFlag: (flagAt ? parseServiceFlag(flagAt.to_flag) : null) as DccServiceFlag | null,
    serviceFlagEffectiveAt: flagAt ? flagAt.effective_at : null,
  };
}

export function deviceView(r: DeviceRow): DeviceView {
  return {
    deviceId: r.device_id,
    deviceType: r.device_type as DeviceType,
    status: r.status as SmiDeviceStatus,
    statusEffectiveAt: r.status_effective_at,
    effectiveStatus: r.effective_status as SmiDeviceStatus | null,
    smets: r.smets,
    manufacturer: r.manufacturer,
    model: r.model,
    firmwareVersion: r.firmware_version,
  };
}

export type TransitionView = StoredTransition;
export const transitionView = (r: TransitionRow): TransitionView => toStoredTransition(r);
