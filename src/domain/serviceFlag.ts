import { type DeviceType, SmiDeviceStatus, isSmartMeter } from "./device";
import { unreachable } from "./DomainError";

/** The DCC service flag (MP077). `null` is the NULL/blank starting position. S and W are retired. */
export enum DccServiceFlag {
  A = "A",
  I = "I",
  N = "N",
}
export type ServiceFlagValue = DccServiceFlag | null;

/** Which row of the MP077 decision table holds (SPEC §2.3). */
export enum FlagRule {
  ANY_COMMISSIONED = "ANY_COMMISSIONED",
  ANY_INSTALLED_NOT_COMMISSIONED = "ANY_INSTALLED_NOT_COMMISSIONED",
  PREVIOUSLY_ACTIVE = "PREVIOUSLY_ACTIVE",
  NEVER_ACTIVE = "NEVER_ACTIVE",
}

/** How a Whitelisted meter counts: as InstalledNotCommissioned (default) or not at all. */
export type WhitelistedPolicy = "I" | "IGNORE";

/**
 * Statuses MP077 says are "not used for DCC Service Status updates" (§3, §7): CPL removal
 * (Suspended) and SMKI recovery must never flip flags en masse.
 */
export function isFlagNeutralStatus(status: SmiDeviceStatus): boolean {
  return (
    status === SmiDeviceStatus.SUSPENDED ||
    status === SmiDeviceStatus.RECOVERY ||
    status === SmiDeviceStatus.RECOVERED
  );
}

/**
 * The status a meter contributes from after moving to `next`: a flag-neutral status keeps the
 * previous effective status (so chains like Commissioned → Suspended → Recovery stay Commissioned);
 * any other status becomes the effective one.
 */
export function deriveEffectiveStatus(
  previousEffective: SmiDeviceStatus | null,
  next: SmiDeviceStatus,
): SmiDeviceStatus | null {
  return isFlagNeutralStatus(next) ? previousEffective : next;
}

/** What one associated device contributes to its meter points' flag: A, I or nothing (null). */
export function deriveContribution(
  deviceType: DeviceType,
  effectiveStatus: SmiDeviceStatus | null,
  policy: WhitelistedPolicy,
): DccServiceFlag.A | DccServiceFlag.I | null {
  if (!isSmartMeter(deviceType) || effectiveStatus === null) return null;
  switch (effectiveStatus) {
    case SmiDeviceStatus.COMMISSIONED:
      return DccServiceFlag.A;
    case SmiDeviceStatus.INSTALLED_NOT_COMMISSIONED:
      return DccServiceFlag.I;
    case SmiDeviceStatus.WHITELISTED:
      return policy === "I" ? DccServiceFlag.I : null;
    case SmiDeviceStatus.PENDING:
    case SmiDeviceStatus.DECOMMISSIONED:
    case SmiDeviceStatus.WITHDRAWN:
    case SmiDeviceStatus.SUSPENDED: // flag-neutral: never an effective status; nothing if passed
    case SmiDeviceStatus.RECOVERY:
    case SmiDeviceStatus.RECOVERED:
      return null;
    default:
      return unreachable(effectiveStatus);
  }
}

export interface AssociatedDevice {
  readonly deviceId: string;
  readonly deviceType: DeviceType;
  readonly effectiveStatus: SmiDeviceStatus | null;
}

export interface FlagDecision {
  readonly flag: ServiceFlagValue;
  readonly rule: FlagRule;
  /** Meters contributing A (rule ANY_COMMISSIONED) or I (ANY_INSTALLED_NOT_COMMISSIONED); else empty. Sorted. */
  readonly contributingDeviceIds: readonly string[];
}

/**
 * The MP077 decision table (SPEC §2.3), first row that holds:
 * 1. some currently associated smart meter contributes A → A
 * 2. else some contributes I → I
 * 3. else the meter point has ever had a meter contributing A or I while associated → N
 * 4. else → null
 *
 * `everActive` is "the flag has left null": a flag only leaves null when an associated meter
 * contributes A or I, and it never returns to null, so the two are the same fact.
 */
export function deriveServiceFlag(
  devices: Iterable<AssociatedDevice>,
  everActive: boolean,
  policy: WhitelistedPolicy,
): FlagDecision {
  const a: string[] = [];
  const i: string[] = [];
  for (const d of devices) {
    const c = deriveContribution(d.deviceType, d.effectiveStatus, policy);
    if (c === DccServiceFlag.A) a.push(d.deviceId);
    else if (c === DccServiceFlag.I) i.push(d.deviceId);
  }
  if (a.length > 0)
    return { flag: DccServiceFlag.A, rule: FlagRule.ANY_COMMISSIONED, contributingDeviceIds: a.sort() };
  if (i.length > 0)
    return {
      flag: DccServiceFlag.I,
      rule: FlagRule.ANY_INSTALLED_NOT_COMMISSIONED,
      contributingDeviceIds: i.sort(),
    };
  if (everActive)
    return { flag: DccServiceFlag.N, rule: FlagRule.PREVIOUSLY_ACTIVE, contributingDeviceIds: [] };
  return { flag: null, rule: FlagRule.NEVER_ACTIVE, contributingDeviceIds: [] };
}

export function parseServiceFlag(value: string | null): ServiceFlagValue {
  if (value === null || value === "") return null;
  if (value === "A" || value === "I" || value === "N") return value as DccServiceFlag;
  throw new Error(`expected a stored service flag A, I, N or null, got ${JSON.stringify(value)}`);
}
