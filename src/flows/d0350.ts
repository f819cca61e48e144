import {
  type FlowFileContent,
  type FlowFileHeader,
  type FlowRecord,
  assertFlowRecord,
  formatLondonTimestamp,
} from "./flowRecord";

/**
 * D0350 'Notification of DCC Services at Metering Point', in the Data Transfer Catalogue's
 * pipe-delimited style. The layout is written down in docs/flows/D0350.md; this is the only code
 * that knows it. Pure: the caller supplies the time and the records.
 *
 *   ZHV|<file id>|D0350001|Z|DCCO|P|<MPAS id>|<YYYYMMDDHHMMSS>||||OPER|
 *   <group id>|<MPAN core>|<flag>|<YYYYMMDD>|        (one per MPAN)
 *   ZPT|<file id>|<record count>||1|<YYYYMMDDHHMMSS>|
 */
export const D0350_FLOW_VERSION = "D0350001";
export const D0350_DEFAULT_GROUP_ID = "DSF";
const MPAN_CORE = /^\d{13}$/;
const GROUP_ID = /^[A-Z0-9]{3}$/;
const FIELD = /^[^|\r\n]+$/;

function checkField(name: string, v: string): string {
  if (!FIELD.test(v))
    throw new RangeError(`expected ${name} without '|' or line breaks, got ${JSON.stringify(v)}`);
  return v;
}

export function formatD0350Header(h: FlowFileHeader): string {
  const id = checkField("a file id", String(h.fileId));
  return `ZHV|${id}|${D0350_FLOW_VERSION}|Z|DCCO|P|${checkField("an MPAS id", h.recipient)}|${formatLondonTimestamp(h.createdAt)}||||OPER|\n`;
}

export function formatD0350Record(r: FlowRecord, groupId: string = D0350_DEFAULT_GROUP_ID): string {
  if (!GROUP_ID.test(groupId))
    throw new RangeError(`expected a three-character group id, got ${JSON.stringify(groupId)}`);
  if (!MPAN_CORE.test(r.mpxn))
    throw new RangeError(`expected a 13-digit MPAN core in a D0350, got ${JSON.stringify(r.mpxn)}`);
  assertFlowRecord(r);
  return `${groupId}|${r.mpxn}|${r.flag}|${r.effectiveDate}|\n`;
}

/** The trailer's timestamp is the file's creation time, as in the header, so a rewrite is byte-identical. */
export function formatD0350Trailer(h: FlowFileHeader, recordCount: number): string {
  return `ZPT|${String(h.fileId)}|${recordCount}||1|${formatLondonTimestamp(h.createdAt)}|\n`;
}

export function formatD0350(f: FlowFileContent, groupId: string = D0350_DEFAULT_GROUP_ID): string {
  let out = formatD0350Header(f);
  for (const r of f.records) out += formatD0350Record(r, groupId);
  return out + formatD0350Trailer(f, f.records.length);
}
