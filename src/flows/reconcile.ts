import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { type Readable } from "node:stream";
import { parse } from "csv-parse";
import { DomainError } from "../domain/DomainError";
import { parseMpxn } from "../domain/identifiers";
import { type FlowStore, type RegisteredView } from "../persistence/flowStore";
import { createFlowFormat, type FlowFormatOptions } from "./flowFormat";
import { FlowKind, flowForFuel, type SentFlag } from "./flowRecord";
import { writeFileAtomic } from "./writeFileAtomic";

/**
 * `reconcile FILE` (SPEC §7): compare a registration system's view of the flags (`mpxn,flag` CSV)
 * with the flags derived here, line by line, in constant memory: lines are parsed as a stream,
 * looked up in batches, and every output (mismatches, per-line issues, corrections) is streamed to
 * disk as it is found. Only the counts table and one open body file per recipient stay in memory.
 *
 * Outputs in `outDir`:
 *   summary.json        counts by (registered, derived) pair, and totals
 *   mismatches.csv      line,mpxn,fuel,network_operator,registered,derived,effective_date,correction
 *   issues.csv          line,code,message for unknown MPxNs and malformed lines (never fatal)
 *   D0350_<MPAS>_<id>.txt / E46_<transporter>_<id>.csv   corrections, in the export format
 */

/** What a registration system may hold: blank, the MP077 values, or the retired S and W. */
export type RegisteredFlag = "" | "A" | "I" | "N" | "S" | "W";
const REGISTERED_FLAGS = new Set<string>(["", "A", "I", "N", "S", "W"]);

export const ReconcileIssueCode = {
  MALFORMED_LINE: "MALFORMED_LINE",
  INVALID_MPXN: "INVALID_MPXN",
  INVALID_FLAG: "INVALID_FLAG",
  UNKNOWN_MPXN: "UNKNOWN_MPXN",
} as const;
export type ReconcileIssueCode = (typeof ReconcileIssueCode)[keyof typeof ReconcileIssueCode];

export interface ReconcileOptions extends FlowFormatOptions {
  readonly outDir: string;
  /** The file id written in the corrections files' headers (they are not part of the export sequence). */
  readonly correctionsFileId: string;
  readonly now: Date;
  readonly batchSize?: number;
  readonly onProgress?: (lines: number) => void;
}

export interface PairCount {
  /** "" for blank. */
  readonly registered: string;
  /** "" for null. */
  readonly derived: string;
  readonly count: number;
}

export interface ReconcileSummary {
  readonly lines: number;
  readonly compared: number;
  readonly matches: number;
  readonly mismatches: number;
  readonly corrections: number;
  /** Mismatches that cannot be corrected by a file: derived null (never sent) or no network operator. */
  readonly uncorrectable: number;
  readonly unknown: number;
  readonly malformed: number;
  readonly pairs: PairCount[];
  readonly correctionFiles: { recipient: string; flow: FlowKind; fileName: string; recordCount: number }[];
  readonly outDir: string;
}

/**
 * Does the registration system hold the right flag? Blank registered matches a null derived flag;
 * the retired S and W never match (MP077 removed them; every one is a wrong flag).
 */
export function deriveMatch(registered: RegisteredFlag, derived: SentFlag | null): boolean {
  return registered === (derived ?? "");
}

/** Parses one CSV record's fields into (mpxn, flag), or an issue. Pure. */
export function parseRegistrationLine(
  fields: readonly string[],
):
  | { ok: true; mpxn: string; fuel: "ELECTRICITY" | "GAS"; flag: RegisteredFlag }
  | { ok: false; code: ReconcileIssueCode; message: string } {
  if (fields.length !== 2)
    return {
      ok: false,
      code: ReconcileIssueCode.MALFORMED_LINE,
      message: `expected 2 fields (mpxn,flag), got ${fields.length}`,
    };
  const rawMpxn = fields[0]!.trim();
  const flag = fields[1]!.trim().toUpperCase();
  let parsed;
  try {
    parsed = parseMpxn(rawMpxn);
  } catch (e) {
    if (e instanceof DomainError)
      return { ok: false, code: ReconcileIssueCode.INVALID_MPXN, message: e.message };
    throw e;
  }
  if (!REGISTERED_FLAGS.has(flag))
    return {
      ok: false,
      code: ReconcileIssueCode.INVALID_FLAG,
      message: `expected a flag that is blank, A, I, N, S or W, got ${JSON.stringify(fields[1]!.slice(0, 20))}`,
    };
  return { ok: true, mpxn: parsed.mpxn, fuel: parsed.fuel, flag: flag as RegisteredFlag };
}

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

async function writeLine(out: WriteStream, line: string): Promise<void> {
  if (!out.write(line)) await once(out, "drain");
}

async function closeStream(out: WriteStream): Promise<void> {
  out.end();
  await once(out, "finish");
}

/**
 * A line waiting in the batch: to look up, or already known to be bad. Bad lines wait with the
 * good ones so that issues.csv comes out in line order.
 */
type PendingLine =
  | { readonly line: number; readonly mpxn: string; readonly flag: RegisteredFlag }
  | { readonly line: number; readonly code: ReconcileIssueCode; readonly message: string };

/** Per-recipient corrections: the body is streamed to a hidden file and framed at the end. */
interface CorrectionBody {
  readonly recipient: string;
  readonly flow: FlowKind;
  readonly bodyPath: string;
  readonly out: WriteStream;
  count: number;
}

export async function reconcile(
  input: Readable,
  store: FlowStore,
  o: ReconcileOptions,
): Promise<ReconcileSummary> {
  await mkdir(o.outDir, { recursive: true });
  const batchSize = o.batchSize ?? 5000;
  const mismatchOut = createWriteStream(path.join(o.outDir, "mismatches.csv"));
  const issuesOut = createWriteStream(path.join(o.outDir, "issues.csv"));
  await writeLine(
    mismatchOut,
    "line,mpxn,fuel,network_operator,registered,derived,effective_date,correction\n",
  );
  await writeLine(issuesOut, "line,code,message\n");

  const pairs = new Map<string, number>();
  const bodies = new Map<string, CorrectionBody>();
  const s = {
    lines: 0,
    compared: 0,
    matches: 0,
    mismatches: 0,
    corrections: 0,
    uncorrectable: 0,
    unknown: 0,
    malformed: 0,
  };
  // Issues found by the CSV parser itself (an unclosed quote…) arrive through on_skip, between records.
  const parserIssues: PendingLine[] = [];
  const issue = (line: number, code: ReconcileIssueCode, message: string) =>
    writeLine(issuesOut, `${line},${code},${csvCell(message)}\n`);

  const parser = input.pipe(
    parse({
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        parserIssues.push({
          line: typeof err?.lines === "number" ? err.lines : 0,
          code: ReconcileIssueCode.MALFORMED_LINE,
          message: err?.message ?? "unparseable CSV",
        });
        return undefined;
      },
    }),
  );
  const format = (flow: FlowKind) => createFlowFormat(flow, o);

  const correctionFor = async (v: RegisteredView): Promise<CorrectionBody> => {
    const flow = flowForFuel(v.fuel);
    const key = `${v.networkOperator}\u0000${flow}`;
    let b = bodies.get(key);
    if (!b) {
      const bodyPath = path.join(o.outDir, `.corrections-${flow}-${v.networkOperator}.body`);
      b = { recipient: v.networkOperator!, flow, bodyPath, out: createWriteStream(bodyPath), count: 0 };
      bodies.set(key, b);
    }
    return b;
  };

  const flush = async (batch: PendingLine[]) => {
    if (batch.length === 0) return;
    const mpxns = new Set<string>();
    for (const p of batch) if ("mpxn" in p) mpxns.add(p.mpxn);
    const views =
      mpxns.size > 0 ? await store.registeredViews([...mpxns]) : new Map<string, RegisteredView>();
    for (const p of batch) {
      if (!("mpxn" in p)) {
        s.malformed++;
        await issue(p.line, p.code, p.message);
        continue;
      }
      const v = views.get(p.mpxn);
      if (!v) {
        s.unknown++;
        await issue(
          p.line,
          ReconcileIssueCode.UNKNOWN_MPXN,
          `expected an MPxN known to the inventory, got ${p.mpxn}`,
        );
        continue;
      }
      s.compared++;
      const derived = v.serviceFlag;
      const key = `${p.flag}|${derived ?? ""}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
      if (deriveMatch(p.flag, derived)) {
        s.matches++;
        continue;
      }
      s.mismatches++;
      let correction: string;
      if (derived === null) {
        correction = "none: a null flag is never sent";
        s.uncorrectable++;
      } else if (v.networkOperator === null) {
        correction = "none: no network operator to address";
        s.uncorrectable++;
      } else {
        const b = await correctionFor(v);
        await writeLine(
          b.out,
          format(b.flow).record({ mpxn: v.mpxn, flag: derived, effectiveDate: v.effectiveDate! }),
        );
        b.count++;
        s.corrections++;
        correction = flowForFuel(v.fuel);
      }
      await writeLine(
        mismatchOut,
        `${p.line},${v.mpxn},${v.fuel},${v.networkOperator ?? ""},${p.flag},${derived ?? ""},${v.effectiveDate ?? ""},${csvCell(correction)}\n`,
      );
    }
    o.onProgress?.(s.lines);
  };

  let batch: PendingLine[] = [];
  let seenFirst = false;
  // .pipe() does not pass a read error on: hand it to the parser so the loop below throws it.
  input.once("error", (e) => parser.destroy(e));
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const line = item.info.lines;
    // The parser may report a bad line ahead of records it has buffered: keep line order.
    while (parserIssues.length > 0 && parserIssues[0]!.line < line) {
      s.lines++;
      batch.push(parserIssues.shift()!);
    }
    const fields = item.record;
    s.lines++;
    // An optional header line: the first record, naming the columns.
    if (!seenFirst) {
      seenFirst = true;
      if (fields[0]?.trim().toLowerCase() === "mpxn") {
        s.lines--;
        continue;
      }
    }
    const parsed = parseRegistrationLine(fields);
    batch.push(
      parsed.ok
        ? { line, mpxn: parsed.mpxn, flag: parsed.flag }
        : { line, code: parsed.code, message: parsed.message },
    );
    if (batch.length >= batchSize) {
      await flush(batch);
      batch = [];
    }
  }
  for (const pi of parserIssues.splice(0)) {
    s.lines++;
    batch.push(pi);
  }
  await flush(batch);

  const correctionFiles: ReconcileSummary["correctionFiles"] = [];
  for (const b of [...bodies.values()].sort((x, y) =>
    x.flow + x.recipient < y.flow + y.recipient ? -1 : 1,
  )) {
    await closeStream(b.out);
    const f = format(b.flow);
    const header = { fileId: o.correctionsFileId, recipient: b.recipient, createdAt: o.now };
    const fileName =
      b.flow === FlowKind.D0350
        ? `D0350_${b.recipient}_${o.correctionsFileId}.txt`
        : `E46_${b.recipient}_${o.correctionsFileId}.csv`;
    const bodyPath = b.bodyPath;
    const count = b.count;
    async function* chunks(): AsyncGenerator<string> {
      yield f.header(header);
      for await (const c of createReadStream(bodyPath, { encoding: "utf8" })) yield c as string;
      yield f.trailer(header, count);
    }
    await writeFileAtomic(path.join(o.outDir, fileName), chunks());
    await rm(bodyPath, { force: true });
    correctionFiles.push({ recipient: b.recipient, flow: b.flow, fileName, recordCount: count });
  }
  await closeStream(mismatchOut);
  await closeStream(issuesOut);

  const summary: ReconcileSummary = {
    ...s,
    pairs: [...pairs.entries()]
      .map(([k, count]) => {
        const [registered, derived] = k.split("|") as [string, string];
        return { registered, derived, count };
      })
      .sort((a, b) => cmp(a.registered, b.registered) || cmp(a.derived, b.derived)),
    correctionFiles,
    outDir: o.outDir,
  };
  await writeFileAtomic(path.join(o.outDir, "summary.json"), [JSON.stringify(summary, null, 2) + "\n"]);
  return summary;
}
