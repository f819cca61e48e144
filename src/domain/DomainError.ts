/**
 * The stable codes of rejected input. They are part of the public contract: they appear as
 * `RejectedEvent.code`, in the ingest rejects file and as GraphQL `extensions.code`.
 */
export const DomainErrorCode = {
  INVALID_MPXN: "INVALID_MPXN",
  INVALID_DEVICE_ID: "INVALID_DEVICE_ID",
  INVALID_EVENT: "INVALID_EVENT",
  UNKNOWN_DEVICE: "UNKNOWN_DEVICE",
  UNKNOWN_METER_POINT: "UNKNOWN_METER_POINT",
  STALE_EVENT: "STALE_EVENT",
} as const;
export type DomainErrorCode = (typeof DomainErrorCode)[keyof typeof DomainErrorCode];

/** Bad input. The message names what was expected and what was received. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** Renders a received value for an error message, short and unambiguous. */
export function describeReceived(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/** Exhaustiveness helper for `switch` over closed sets. */
export function unreachable(value: never): never {
  throw new Error(`unreachable case: ${JSON.stringify(value)}`);
}
