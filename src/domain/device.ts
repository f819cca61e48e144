import { DomainError, describeReceived } from "./DomainError";

/** SMI device statuses; values are the DUIS spellings used in ingest files and stored in the database. */
export enum SmiDeviceStatus {
  PENDING = "Pending",
  WHITELISTED = "Whitelisted",
  INSTALLED_NOT_COMMISSIONED = "InstalledNotCommissioned",
  COMMISSIONED = "Commissioned",
  DECOMMISSIONED = "Decommissioned",
  WITHDRAWN = "Withdrawn",
  SUSPENDED = "Suspended",
  RECOVERY = "Recovery",
  RECOVERED = "Recovered",
}

/** Device types (DUIS spelling). Only ESME and GSME count for the flag. */
export enum DeviceType {
  ESME = "ESME",
  GSME = "GSME",
  GPF = "GPF",
  CHF = "CHF",
  HCALCS = "HCALCS",
  PPMID = "PPMID",
  IHD = "IHD",
  CAD = "CAD",
}

export enum AssociationRole {
  IMPORT = "Import",
  SECONDARY_IMPORT = "SecondaryImport",
  EXPORT = "Export",
}

/** A parser for one closed set: a Set built once, since bulk ingest calls it per event. */
function enumParser<E extends Record<string, string>>(e: E, what: string): (value: unknown) => E[keyof E] {
  const values = Object.values(e);
  const known: ReadonlySet<string> = new Set(values);
  return (value) => {
    if (typeof value === "string" && known.has(value)) return value as E[keyof E];
    throw new DomainError(
      "INVALID_EVENT",
      `expected ${what} to be one of ${values.join(", ")}, got ${describeReceived(value)}`,
    );
  };
}

export const parseSmiDeviceStatus: (v: unknown) => SmiDeviceStatus = enumParser(SmiDeviceStatus, "status");
export const parseDeviceType: (v: unknown) => DeviceType = enumParser(DeviceType, "deviceType");
export const parseAssociationRole: (v: unknown) => AssociationRole = enumParser(AssociationRole, "role");

/** Is this device a smart meter (the only devices that count for the service flag)? */
export const isSmartMeter = (type: DeviceType): boolean =>
  type === DeviceType.ESME || type === DeviceType.GSME;
