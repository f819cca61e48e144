/**
 * The records of registration update files (SPEC §7), shared by the export and reconciliation.
 * Pure: no I/O, no clock.
 */

/** The two flows and the fuel each serves. Stored values; also the file-name prefix. */
export enum FlowKind {
  D0350 = "D0350",
  E46 = "E46",
}

/** Flags that are ever sent. Null is never sent (SPEC §7); S and W are retired (MP077). */
export type SentFlag = "A" | "I" | "N";

export interface FlowRecord {
  /** MPAN core (D0350) or MPRN (E46). */
  readonly mpxn: string;
  readonly flag: SentFlag;
  /** The Europe/London calendar date of the flag's effective time, as YYYYMMDD. */
  readonly effectiveDate: string;
}

export interface FlowFileHeader {
  /** The per-recipient sequential file id. */
  readonly fileId: number | string;
  /** The recipient: MPAS id (D0350) or gas transporter (E46). */
  readonly recipient: string;
  /** When the file was prepared; rendered as Europe/London local time. */
  readonly createdAt: Date;
}

/** A whole file, for the formatters' one-shot form (tests, small files). */
export interface FlowFileContent extends FlowFileHeader {
  readonly records: readonly FlowRecord[];
}

export const flowForFuel = (fuel: "ELECTRICITY" | "GAS"): FlowKind =>
  fuel === "ELECTRICITY" ? FlowKind.D0350 : FlowKind.E46;
export const fuelForFlow = (flow: FlowKind): "ELECTRICITY" | "GAS" =>
  flow === FlowKind.D0350 ? "ELECTRICITY" : "GAS";

/** The name a file is written under; zero-padded so a directory listing sorts by id. */
export function flowFileName(flow: FlowKind, recipient: string, fileId: number | string): string {
  const id = typeof fileId === "number" ? String(fileId).padStart(8, "0") : fileId;
  return flow === FlowKind.D0350 ? `D0350_${recipient}_${id}.txt` : `E46_${recipient}_${id}.csv`;
}

// Intl formatters are built once: creating one per record costs more than the record itself.
const LONDON_PARTS = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/London",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function londonParts(instant: Date): Record<string, string> {
  if (Number.isNaN(instant.getTime()))
    throw new RangeError(`expected a valid instant, got ${String(instant)}`);
  const out: Record<string, string> = {};
  for (const p of LONDON_PARTS.formatToParts(instant)) out[p.type] = p.value;
  return out;
}

/** YYYYMMDD: the Europe/London calendar date of an instant (BST in summer, GMT in winter). */
export function formatLondonDate(instant: Date): string {
  const p = londonParts(instant);
  return `${p.year}${p.month}${p.day}`;
}

/** YYYYMMDDHHMMSS in Europe/London local time. */
export function formatLondonTimestamp(instant: Date): string {
  const p = londonParts(instant);
  return `${p.year}${p.month}${p.day}${p.hour}${p.minute}${p.second}`;
}

const SENT_FLAGS = new Set(["A", "I", "N"]);
const DATE = /^\d{8}$/;

/** The contract every formatter checks before rendering a record. */
export function assertFlowRecord(r: FlowRecord): void {
  if (!SENT_FLAGS.has(r.flag))
    throw new RangeError(
      `expected a flag A, I or N in a flow record, got ${JSON.stringify(r.flag)} for ${r.mpxn}`,
    );
  if (!DATE.test(r.effectiveDate))
    throw new RangeError(
      `expected an effective date as YYYYMMDD, got ${JSON.stringify(r.effectiveDate)} for ${r.mpxn}`,
    );
}
