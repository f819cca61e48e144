import { syntheticDeviceId, syntheticMpan, syntheticMprn } from "../../src/ingest/synthetic";
import { type App } from "../../src/app";
import { openTestApp } from "../support/harness";

/** A fresh migrated database and the app over it (no HTTP server: the flows are CLI services). */
export const openFlowsApp = openTestApp;

/** Builds NDJSON-style events for one meter point and its meters, with unique ids. */
export class Story {
  private n = 0;
  constructor(private readonly prefix: string) {}
  private id() {
    return `${this.prefix}-${++this.n}`;
  }
  register(mpxn: string, at: string, networkOperator?: string) {
    return {
      eventId: this.id(),
      occurredAt: at,
      type: "MeterPointRegistered",
      mpxn,
      supplier: "EDFE",
      ...(networkOperator ? { networkOperator } : {}),
    };
  }
  device(deviceId: string, deviceType: "ESME" | "GSME", at: string) {
    return {
      eventId: this.id(),
      occurredAt: at,
      type: "DeviceRegistered",
      deviceId,
      deviceType,
      smets: "SMETS2",
    };
  }
  associate(deviceId: string, mpxn: string, at: string) {
    return { eventId: this.id(), occurredAt: at, type: "DeviceAssociated", deviceId, mpxn, role: "Import" };
  }
  status(deviceId: string, status: string, at: string) {
    return { eventId: this.id(), occurredAt: at, type: "DeviceStatusChanged", deviceId, status };
  }
  /** A meter point with one meter in `status` (Commissioned → A, InstalledNotCommissioned → I). */
  meterPointWith(mpxn: string, deviceId: string, status: string, at: string, networkOperator?: string) {
    const type = mpxn.length === 13 ? "ESME" : "GSME";
    return [
      this.register(mpxn, at, networkOperator),
      this.device(deviceId, type, at),
      this.associate(deviceId, mpxn, at),
      this.status(deviceId, status, at),
    ];
  }
}

export async function apply(app: App, events: Record<string, unknown>[]): Promise<void> {
  const r = await app.applier.applyRaw(events);
  if (r.rejected.length > 0) throw new Error(`events rejected: ${JSON.stringify(r.rejected)}`);
}

export const mpan = syntheticMpan;
export const mprn = syntheticMprn;
export const dev = (n: number) => syntheticDeviceId(n, 1);
