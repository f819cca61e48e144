import { DomainError } from "../domain/DomainError";
import { parseDeviceId, parseMpxn } from "../domain/identifiers";
import { badUserInput, toGraphQLError } from "./errors";

/** Bounds of list arguments (SPEC §4). */
export const LIMITS = Object.freeze({ maxFirst: 500, maxMpxns: 1000, maxEvents: 1000 });

export function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 0 || first > LIMITS.maxFirst) {
    throw badUserInput(`expected first between 0 and ${LIMITS.maxFirst}, got ${first}`);
  }
  return first;
}

export function checkListSize(name: string, size: number, max: number): void {
  if (size > max) throw badUserInput(`expected at most ${max} entries in ${name}, got ${size}`);
}

/** Sequence and history cursors are the decimal id they follow. */
export function parseNumericCursor(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!/^\d{1,19}$/.test(value))
    throw badUserInput(
      `expected ${name} to be a cursor returned by this API (digits), got ${JSON.stringify(value.slice(0, 40))}`,
    );
  return value;
}

const MP_CURSOR_PREFIX = "mp:";
export const encodeMeterPointCursor = (mpxn: string) =>
  Buffer.from(MP_CURSOR_PREFIX + mpxn).toString("base64url");
export function decodeMeterPointCursor(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const decoded = Buffer.from(value, "base64url").toString("utf8");
  if (!decoded.startsWith(MP_CURSOR_PREFIX) || !/^\d{6,13}$/.test(decoded.slice(MP_CURSOR_PREFIX.length))) {
    throw badUserInput(
      `expected after to be a cursor returned by meterPointsConnection, got ${JSON.stringify(value.slice(0, 40))}`,
    );
  }
  return decoded.slice(MP_CURSOR_PREFIX.length);
}

/** Parses an MPxN argument, throwing the public INVALID_MPXN error. */
export function mpxnArg(value: string): string {
  try {
    return parseMpxn(value).mpxn;
  } catch (e) {
    if (e instanceof DomainError) throw toGraphQLError(e);
    throw e;
  }
}

/** Like mpxnArg, but returns the error for list positions (one bad key never fails the list). */
export function mpxnArgOrError(value: string): string | Error {
  try {
    return parseMpxn(value).mpxn;
  } catch (e) {
    if (e instanceof DomainError) return toGraphQLError(e);
    throw e;
  }
}

export function deviceIdArg(value: string): string {
  try {
    return parseDeviceId(value);
  } catch (e) {
    if (e instanceof DomainError) throw toGraphQLError(e);
    throw e;
  }
}
