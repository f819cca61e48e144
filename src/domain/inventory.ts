import { type AssociationRole, DeviceType, SmiDeviceStatus } from "./device";
import { DomainError } from "./DomainError";
import { EventType, type SmiEvent, namedKeys } from "./events";
import { Fuel, deriveNetworkOperatorFromMpan } from "./identifiers";
import {
  type FlagDecision,
  type ServiceFlagValue,
  type WhitelistedPolicy,
  deriveEffectiveStatus,
  deriveServiceFlag,
} from "./serviceFlag";

export interface DeviceState {
  readonly deviceId: string;
  readonly deviceType: DeviceType;
  smets: string | null;
  manufacturer: string | null;
  model: string | null;
  firmwareVersion: string | null;
  status: SmiDeviceStatus;
  statusEffectiveAt: Date;
  /** The status the device contributes from: the last one that is not Suspended/Recovery/Recovered. */
  effectiveStatus: SmiDeviceStatus | null;
  lastEventAt: Date;
}

export interface MeterPointState {
  readonly mpxn: string;
  readonly fuel: Fuel;
  networkOperator: string | null;
  supplier: string | null;
  flag: ServiceFlagValue;
  flagEffectiveAt: Date | null;
  registeredAt: Date;
  lastEventAt: Date;
}

export interface AssociationState {
  /** Database id of an association loaded from storage; null for one begun in this working set. */
  readonly id: string | null;
  readonly deviceId: string;
  readonly mpxn: string;
  readonly role: AssociationRole;
  readonly begunAt: Date;
  readonly beginEventId: string | null;
  endedAt: Date | null;
  endEventId: string | null;
}

export interface StatusChange {
  readonly deviceId: string;
  readonly status: SmiDeviceStatus;
  readonly effectiveStatus: SmiDeviceStatus | null;
  readonly occurredAt: Date;
  readonly eventId: string;
}

export interface FlagTransition {
  readonly mpxn: string;
  /** The meter point's fuel, network operator and supplier at the moment of the transition. */
  readonly fuel: Fuel;
  readonly networkOperator: string | null;
  readonly supplier: string | null;
  readonly from: ServiceFlagValue;
  readonly to: ServiceFlagValue;
  readonly decision: FlagDecision;
  readonly effectiveAt: Date;
  readonly causeEventId: string;
}

export interface InventoryRules {
  readonly whitelistedPolicy: WhitelistedPolicy;
  /** Extra distributor ids → MPAS ids (independent networks), from configuration. */
  readonly extraDistributors: Readonly<Record<string, string>>;
}

const isoOf = (d: Date) => d.toISOString();

/**
 * The slice of the inventory a batch of events touches, held in memory while the batch is applied
 * event by event, with a log of every change for the persistence layer to write set-based.
 *
 * This is the one implementation of SPEC §3's rules: the live mutation and the bulk ingest both
 * load a working set, call `apply` per event in the batch's own order, and persist the log.
 * The loader must put in it every device and meter point the batch names, the active associations
 * of those devices and meter points, and every device associated with those meter points
 * (what `requiredKeys` and `meterPointsToLoadFor` describe).
 */
export class InventoryWorkingSet {
  readonly devices = new Map<string, DeviceState>();
  readonly meterPoints = new Map<string, MeterPointState>();
  /** Active associations only, by device and by meter point. */
  private readonly byDevice = new Map<string, AssociationState[]>();
  private readonly byMeterPoint = new Map<string, AssociationState[]>();

  // The change log, in application order.
  readonly newDeviceIds = new Set<string>();
  readonly changedDeviceIds = new Set<string>();
  readonly newMeterPointIds = new Set<string>();
  readonly changedMeterPointIds = new Set<string>();
  readonly statusChanges: StatusChange[] = [];
  /** Associations begun in this working set (possibly ended in it too). */
  readonly begunAssociations: AssociationState[] = [];
  /** Stored associations ended in this working set. */
  readonly endedStoredAssociations: AssociationState[] = [];
  readonly transitions: FlagTransition[] = [];
  readonly appliedEventIds = new Set<string>();

  constructor(private readonly rules: InventoryRules) {}

  // ---- loading ----------------------------------------------------------------------------

  loadDevice(d: DeviceState): void {
    this.devices.set(d.deviceId, d);
  }
  loadMeterPoint(m: MeterPointState): void {
    this.meterPoints.set(m.mpxn, m);
  }
  loadAssociation(a: AssociationState): void {
    if (a.endedAt !== null) return;
    const list = this.byDevice.get(a.deviceId) ?? [];
    if (list.some((x) => x.mpxn === a.mpxn)) return; // already loaded
    list.push(a);
    this.byDevice.set(a.deviceId, list);
    const mlist = this.byMeterPoint.get(a.mpxn) ?? [];
    mlist.push(a);
    this.byMeterPoint.set(a.mpxn, mlist);
  }
  markApplied(eventId: string): void {
    this.appliedEventIds.add(eventId);
  }

  isDuplicate(eventId: string): boolean {
    return this.appliedEventIds.has(eventId);
  }

  activeAssociationsOfDevice(deviceId: string): readonly AssociationState[] {
    return this.byDevice.get(deviceId) ?? [];
  }
  activeAssociationsOfMeterPoint(mpxn: string): readonly AssociationState[] {
    return this.byMeterPoint.get(mpxn) ?? [];
  }

  // ---- applying ---------------------------------------------------------------------------

  /**
   * Applies one event, or throws a DomainError and changes nothing. Every check happens before
   * the first change, so a rejected event leaves the working set as it was.
   */
  apply(e: SmiEvent): void {
    this.checkNotStale(e);
    switch (e.type) {
      case EventType.METER_POINT_REGISTERED: {
        const mp = this.meterPoints.get(e.mpxn.mpxn);
        if (mp) {
          if (e.supplier !== null) mp.supplier = e.supplier;
          if (e.networkOperator !== null) mp.networkOperator = e.networkOperator;
          mp.lastEventAt = e.occurredAt;
          this.changedMeterPointIds.add(mp.mpxn);
        } else {
          this.registerMeterPoint(e.mpxn.mpxn, e.mpxn.fuel, e.occurredAt, e.supplier, e.networkOperator);
        }
        break;
      }
      case EventType.SUPPLIER_CHANGED: {
        const mp = this.meterPoints.get(e.mpxn.mpxn);
        if (!mp) {
          throw new DomainError(
            "UNKNOWN_METER_POINT",
            `expected a registered meter point for SupplierChanged, got unknown MPxN ${e.mpxn.mpxn}`,
          );
        }
        mp.supplier = e.supplier;
        mp.lastEventAt = e.occurredAt;
        this.changedMeterPointIds.add(mp.mpxn);
        break;
      }
      case EventType.DEVICE_REGISTERED: {
        const d = this.devices.get(e.deviceId);
        if (d) {
          if (d.deviceType !== e.deviceType) {
            throw new DomainError(
              "INVALID_EVENT",
              `expected deviceType ${d.deviceType} for already registered device ${d.deviceId}, got ${e.deviceType}`,
            );
          }
          d.smets = e.smets ?? d.smets;
          d.manufacturer = e.manufacturer ?? d.manufacturer;
          d.model = e.model ?? d.model;
          d.firmwareVersion = e.firmwareVersion ?? d.firmwareVersion;
          d.lastEventAt = e.occurredAt;
          this.changedDeviceIds.add(d.deviceId);
        } else {
          const created: DeviceState = {
            deviceId: e.deviceId,
            deviceType: e.deviceType,
            smets: e.smets,
            manufacturer: e.manufacturer,
            model: e.model,
            firmwareVersion: e.firmwareVersion,
            status: SmiDeviceStatus.PENDING,
            statusEffectiveAt: e.occurredAt,
            effectiveStatus: SmiDeviceStatus.PENDING,
            lastEventAt: e.occurredAt,
          };
          this.devices.set(created.deviceId, created);
          this.newDeviceIds.add(created.deviceId);
          this.statusChanges.push({
            deviceId: created.deviceId,
            status: created.status,
            effectiveStatus: created.effectiveStatus,
            occurredAt: e.occurredAt,
            eventId: e.eventId,
          });
        }
        break;
      }
      case EventType.DEVICE_STATUS_CHANGED: {
        const d = this.requireDevice(e.deviceId, e.type);
        d.lastEventAt = e.occurredAt;
        this.changedDeviceIds.add(d.deviceId);
        if (d.status === e.status) break; // applied, changes nothing
        d.status = e.status;
        d.statusEffectiveAt = e.occurredAt;
        d.effectiveStatus = deriveEffectiveStatus(d.effectiveStatus, e.status);
        this.statusChanges.push({
          deviceId: d.deviceId,
          status: d.status,
          effectiveStatus: d.effectiveStatus,
          occurredAt: e.occurredAt,
          eventId: e.eventId,
        });
        for (const a of this.activeAssociationsOfDevice(d.deviceId)) this.recompute(a.mpxn, e);
        break;
      }
      case EventType.DEVICE_ASSOCIATED: {
        const d = this.requireDevice(e.deviceId, e.type);
        this.checkFuelMatches(d, e.mpxn.fuel, e.mpxn.mpxn);
        const mp =
          this.meterPoints.get(e.mpxn.mpxn) ??
          this.registerMeterPoint(e.mpxn.mpxn, e.mpxn.fuel, e.occurredAt, null, null);
        d.lastEventAt = e.occurredAt;
        mp.lastEventAt = e.occurredAt;
        this.changedDeviceIds.add(d.deviceId);
        this.changedMeterPointIds.add(mp.mpxn);
        if (this.activeAssociationsOfDevice(d.deviceId).some((a) => a.mpxn === mp.mpxn)) break;
        const a: AssociationState = {
          id: null,
          deviceId: d.deviceId,
          mpxn: mp.mpxn,
          role: e.role,
          begunAt: e.occurredAt,
          beginEventId: e.eventId,
          endedAt: null,
          endEventId: null,
        };
        this.loadAssociation(a);
        this.begunAssociations.push(a);
        this.recompute(mp.mpxn, e);
        break;
      }
      case EventType.DEVICE_DISASSOCIATED: {
        const d = this.requireDevice(e.deviceId, e.type);
        const a = this.activeAssociationsOfDevice(d.deviceId).find((x) => x.mpxn === e.mpxn.mpxn);
        const mp = this.meterPoints.get(e.mpxn.mpxn);
        if (!a || !mp) {
          throw new DomainError(
            "INVALID_EVENT",
            `expected device ${d.deviceId} to be associated with ${e.mpxn.mpxn} to disassociate it, got no such association`,
          );
        }
        a.endedAt = e.occurredAt;
        a.endEventId = e.eventId;
        if (a.id !== null) this.endedStoredAssociations.push(a);
        this.byDevice.set(
          d.deviceId,
          this.activeAssociationsOfDevice(d.deviceId).filter((x) => x !== a),
        );
        this.byMeterPoint.set(
          mp.mpxn,
          this.activeAssociationsOfMeterPoint(mp.mpxn).filter((x) => x !== a),
        );
        d.lastEventAt = e.occurredAt;
        mp.lastEventAt = e.occurredAt;
        this.changedDeviceIds.add(d.deviceId);
        this.changedMeterPointIds.add(mp.mpxn);
        this.recompute(mp.mpxn, e);
        break;
      }
    }
    this.appliedEventIds.add(e.eventId);
  }

  /** The current MP077 decision for a meter point of this working set. */
  decide(mpxn: string): FlagDecision {
    const mp = this.meterPoints.get(mpxn);
    const devices = this.activeAssociationsOfMeterPoint(mpxn).map((a) => {
      const d = this.devices.get(a.deviceId);
      if (!d) throw new Error(`working set is missing device ${a.deviceId} associated with ${mpxn}`);
      return d;
    });
    return deriveServiceFlag(devices, mp !== undefined && mp.flag !== null, this.rules.whitelistedPolicy);
  }

  private recompute(mpxn: string, cause: SmiEvent): void {
    const mp = this.meterPoints.get(mpxn);
    if (!mp) throw new Error(`working set is missing meter point ${mpxn}`);
    const decision = this.decide(mpxn);
    if (decision.flag === mp.flag) return;
    this.transitions.push({
      mpxn,
      fuel: mp.fuel,
      networkOperator: mp.networkOperator,
      supplier: mp.supplier,
      from: mp.flag,
      to: decision.flag,
      decision,
      effectiveAt: cause.occurredAt,
      causeEventId: cause.eventId,
    });
    mp.flag = decision.flag;
    mp.flagEffectiveAt = cause.occurredAt;
    this.changedMeterPointIds.add(mpxn);
  }

  private registerMeterPoint(
    mpxn: string,
    fuel: Fuel,
    at: Date,
    supplier: string | null,
    networkOperator: string | null,
  ): MeterPointState {
    const mp: MeterPointState = {
      mpxn,
      fuel,
      networkOperator:
        networkOperator ??
        (fuel === Fuel.ELECTRICITY
          ? deriveNetworkOperatorFromMpan(mpxn, this.rules.extraDistributors)
          : null),
      supplier,
      flag: null,
      flagEffectiveAt: null,
      registeredAt: at,
      lastEventAt: at,
    };
    this.meterPoints.set(mpxn, mp);
    this.newMeterPointIds.add(mpxn);
    return mp;
  }

  private requireDevice(deviceId: string, type: EventType): DeviceState {
    const d = this.devices.get(deviceId);
    if (!d) {
      throw new DomainError(
        "UNKNOWN_DEVICE",
        `expected a registered device for ${type}, got unknown device ${deviceId} (send DeviceRegistered first)`,
      );
    }
    return d;
  }

  private checkFuelMatches(d: DeviceState, fuel: Fuel, mpxn: string): void {
    if (d.deviceType === DeviceType.ESME && fuel !== Fuel.ELECTRICITY) {
      throw new DomainError(
        "INVALID_EVENT",
        `expected an MPAN (13 digits) for ESME ${d.deviceId}, got MPRN ${mpxn}`,
      );
    }
    if (d.deviceType === DeviceType.GSME && fuel !== Fuel.GAS) {
      throw new DomainError(
        "INVALID_EVENT",
        `expected an MPRN (6–10 digits) for GSME ${d.deviceId}, got MPAN ${mpxn}`,
      );
    }
  }

  private checkNotStale(e: SmiEvent): void {
    const { deviceId, mpxn } = namedKeys(e);
    const d = deviceId === null ? undefined : this.devices.get(deviceId);
    if (d && e.occurredAt < d.lastEventAt) {
      throw new DomainError(
        "STALE_EVENT",
        `expected occurredAt at or after ${isoOf(d.lastEventAt)} (the latest applied event of device ${d.deviceId}), got ${isoOf(e.occurredAt)}`,
      );
    }
    const mp = mpxn === null ? undefined : this.meterPoints.get(mpxn);
    if (mp && e.occurredAt < mp.lastEventAt) {
      throw new DomainError(
        "STALE_EVENT",
        `expected occurredAt at or after ${isoOf(mp.lastEventAt)} (the latest applied event of meter point ${mp.mpxn}), got ${isoOf(e.occurredAt)}`,
      );
    }
  }
}
