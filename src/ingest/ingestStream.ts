import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { type Readable } from "node:stream";
import split2 from "split2";
import { type ApplyOutcome, type EventApplier, type ParsedItem, parseBatch } from "./applyEvents";

/**
 * Bulk ingest of NDJSON (SPEC §3): streamed line by line, applied in batches through the same
 * EventApplier as the live mutation, so both doors share one implementation of the rules.
 * Memory stays constant: one batch of lines is held at a time.
 */
export interface IngestSummary {
  lines: number;
  applied: number;
  duplicates: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  transitions: number;
  batches: number;
}

export interface IngestOptions {
  readonly batchSize: number;
  /** Where rejected lines go, one JSON object per line: line, eventId, code, message. */
  readonly rejectsPath?: string;
  readonly onBatch?: (summary: Readonly<IngestSummary>, outcome: ApplyOutcome) => void;
}

export function openInput(file: string): Readable {
  return file === "-" ? process.stdin : createReadStream(file);
}

/** Parses one NDJSON line; a malformed line becomes an INVALID_EVENT rejection, never fatal. */
function parseLine(line: string, lineNo: number, index: number): ParsedItem {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return {
      index,
      rejected: {
        eventId: `line ${lineNo}`,
        index,
        code: "INVALID_EVENT",
        message: `expected one JSON object per line, got malformed JSON (${(e as Error).message})`,
      },
    };
  }
  return { ...parseBatch([raw], () => `line ${lineNo}`)[0]!, index };
}

export async function ingestStream(
  input: Readable,
  applier: EventApplier,
  o: IngestOptions,
): Promise<IngestSummary> {
  const summary: IngestSummary = {
    lines: 0,
    applied: 0,
    duplicates: 0,
    rejected: 0,
    rejectedByCode: {},
    transitions: 0,
    batches: 0,
  };
  let rejects: WriteStream | null = null;
  let batch: ParsedItem[] = [];
  let lineNos: number[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const outcome = await applier.applyParsed(batch);
    summary.batches++;
    summary.applied += outcome.applied;
    summary.duplicates += outcome.duplicates;
    summary.transitions += outcome.transitions.length;
    for (const r of outcome.rejected) {
      summary.rejected++;
      summary.rejectedByCode[r.code] = (summary.rejectedByCode[r.code] ?? 0) + 1;
      if (o.rejectsPath) {
        rejects ??= createWriteStream(o.rejectsPath, { flags: "w" });
        const line = lineNos[r.index]!;
        const ok = rejects.write(
          `${JSON.stringify({ line, eventId: r.eventId, code: r.code, message: r.message })}\n`,
        );
        if (!ok) await new Promise<void>((res) => rejects!.once("drain", () => res()));
      }
    }
    o.onBatch?.(summary, outcome);
    batch = [];
    lineNos = [];
  };

  for await (const line of input.pipe(split2()) as AsyncIterable<string>) {
    summary.lines++;
    if (line.trim() === "") continue;
    lineNos.push(summary.lines);
    batch.push(parseLine(line, summary.lines, batch.length));
    if (batch.length >= o.batchSize) await flush();
  }
  await flush();
  if (rejects) await new Promise<void>((res) => (rejects as WriteStream).end(() => res()));
  return summary;
}
