import { DomainError, describeReceived } from "./DomainError";

export enum Fuel {
  ELECTRICITY = "ELECTRICITY",
  GAS = "GAS",
}

/** MPAN core check-digit weights (MRA schedule): digit i of the first 12 is multiplied by PRIME_WEIGHTS[i]. */
const PRIME_WEIGHTS = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43] as const;

/**
 * Electricity distributors by the MPAN's first two digits, shown as their MPAS market participant id.
 * Other ids (independent networks) come from configuration or registration data.
 */
export const DISTRIBUTOR_MPAS_IDS: Readonly<Record<string, string>> = Object.freeze({
  "10": "EELC",
  "11": "EMEB",
  "12": "LOND",
  "13": "MANW",
  "14": "MIDE",
  "15": "NEEB",
  "16": "NORW",
  "17": "HYDE",
  "18": "SPOW",
  "19": "SEEB",
  "20": "SOUT",
  "21": "SWAE",
  "22": "SWEB",
  "23": "YELG",
});

export function mpanCheckDigit(first12: string): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12.charCodeAt(i) - 48) * PRIME_WEIGHTS[i]!;
  return (sum % 11) % 10;
}

export interface ParsedMpxn {
  readonly mpxn: string;
  readonly fuel: Fuel;
}

/**
 * An MPxN is a 13-digit MPAN core (check digit verified) or a 6–10 digit MPRN (check digits not
 * reliably public, so never verified). Anything else is INVALID_MPXN.
 */
export function parseMpxn(value: unknown): ParsedMpxn {
  if (typeof value !== "string" || !/^\d+$/.test(value)) {
    throw new DomainError(
      "INVALID_MPXN",
      `expected an MPxN (a 13-digit MPAN core or a 6–10 digit MPRN), got ${describeReceived(value)}`,
    );
  }
  if (value.length === 13) {
    const expected = mpanCheckDigit(value.slice(0, 12));
    if (expected !== Number(value[12])) {
      throw new DomainError(
        "INVALID_MPXN",
        `expected an MPAN core whose check digit is ${expected}, got ${JSON.stringify(value)} ending in ${value[12]}`,
      );
    }
    return { mpxn: value, fuel: Fuel.ELECTRICITY };
  }
  if (value.length >= 6 && value.length <= 10) return { mpxn: value, fuel: Fuel.GAS };
  throw new DomainError(
    "INVALID_MPXN",
    `expected an MPxN of 13 digits (MPAN core) or 6–10 digits (MPRN), got ${value.length} digits: ${JSON.stringify(value)}`,
  );
}

/** The electricity network operator's MPAS id from the MPAN's distributor id, or null when not a known DNO. */
export function deriveNetworkOperatorFromMpan(
  mpan: string,
  extra: Readonly<Record<string, string>> = {},
): string | null {
  const id = mpan.slice(0, 2);
  return DISTRIBUTOR_MPAS_IDS[id] ?? extra[id] ?? null;
}

const DEVICE_ID = /^[0-9A-F]{2}(-[0-9A-F]{2}){7}$/;

/** EUI-64 as eight hex pairs joined by hyphens; any case accepted, upper case returned. */
export function parseDeviceId(value: unknown): string {
  const upper = typeof value === "string" ? value.toUpperCase() : value;
  if (typeof upper !== "string" || !DEVICE_ID.test(upper)) {
    throw new DomainError(
      "INVALID_DEVICE_ID",
      `expected a device id as eight hex pairs joined by hyphens (e.g. BC-33-AC-FF-FE-FA-55-3D), got ${describeReceived(value)}`,
    );
  }
  return upper;
}
