import {
  type FlowFileContent,
  type FlowFileHeader,
  type FlowRecord,
  assertFlowRecord,
  formatLondonTimestamp,
} from "./flowRecord";

/**
 * E46: the DCC service flag update for gas, a UK Link style CSV for the transporter / CDSP. The
 * layout is written down in docs/flows/E46.md (it is ours: the real UK Link file formats are not
 * public). Pure: the caller supplies the time and the records.
 *
 *   A00,DCC,<transporter>,E46,<file id>,<YYYYMMDDHHMMSS>
 *   E46,<MPRN>,<flag>,<YYYYMMDD>                        (one per MPRN)
 *   Z99,<record count>
 */
export const E46_SENDER = "DCC";
const MPRN = /^\d{6,10}$/;
const FIELD = /^[^,"\r\n]+$/;

function checkField(name: string, v: string): string {
  if (!FIELD.test(v))
    throw new RangeError(`expected ${name} without commas, quotes or line breaks, got ${JSON.stringify(v)}`);
  return v;
}

export function formatE46Header(h: FlowFileHeader): string {
  const id = checkField("a file id", String(h.fileId));
  return `A00,${E46_SENDER},${checkField("a transporter id", h.recipient)},E46,${id},${formatLondonTimestamp(h.createdAt)}\n`;
}

export function formatE46Record(r: FlowRecord): string {
  if (!MPRN.test(r.mpxn))
    throw new RangeError(`expected a 6–10 digit MPRN in an E46, got ${JSON.stringify(r.mpxn)}`);
  assertFlowRecord(r);
  return `E46,${r.mpxn},${r.flag},${r.effectiveDate}\n`;
}

/** The count is of E46 records only (not A00 and Z99). */
export function formatE46Trailer(recordCount: number): string {
  return `Z99,${recordCount}\n`;
}

export function formatE46(f: FlowFileContent): string {
  let out = formatE46Header(f);
  for (const r of f.records) out += formatE46Record(r);
  return out + formatE46Trailer(f.records.length);
}
