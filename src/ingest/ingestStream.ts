import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { type Readable } from "node:stream";
import split2 from "split2";
import { type ApplyOutcome, type EventApplier, type ParsedItem, parseItem } from "./applyEvents";

/**
 * Bulk ingest (SPEC §3): a stream of events applied in batches through the same EventApplier as the
 * live mutation, so both doors share one implementation of the rules (the domain's working set)
 * and one transaction boundary (a batch).
 *
 * Memory is constant whatever the input size: at most two batches are held, the one being applied
 * in the database and the one being read and parsed meanwhile (reading, JSON parsing and validation
 * overlap the database's work on the previous batch; batches still commit strictly in input order,
 * because each one depends on the state the previous one left).
 *
 * Crash safety comes from the event ids: each batch commits its events' ids with its changes, so a
 * rerun of the same input after a crash skips what was committed (as duplicates) and applies the
 * rest in the same order, converging on the state of a single clean run.
 */
export interface IngestSummary {
  /** Input lines read (blank lines included). */
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

/** One input item, validated: an event or a rejection, with its 1-based line number. */
export interface LineItem {
  readonly line: number;
  readonly item: ParsedItem;
}

/**
 * Small read chunks on purpose: a chunk's lines are split, parsed and validated in one go without
 * yielding, and while that runs the database's replies for the batch in flight wait. 16 KiB (about
 * a hundred events) keeps those stalls short; 1 MiB chunks measured slower.
 */
export function openInput(file: string): Readable {
  return file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 14 });
}

/** Parses one NDJSON line; a malformed line becomes an INVALID_EVENT rejection, never fatal. */
export function parseLine(text: string, line: number): LineItem {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return {
      line,
      item: {
        index: 0,
        rejected: {
          eventId: `line ${line}`,
          index: 0,
          code: "INVALID_EVENT",
          message: `expected one JSON object per line, got malformed JSON (${(e as Error).message})`,
        },
      },
    };
  }
  return { line, item: parseItem(raw, 0, () => `line ${line}`) };
}

/** Validates an already-parsed raw event (the seed generator's objects); `line` is its position. */
export function parseRawItem(raw: unknown, line: number): LineItem {
  return { line, item: parseItem(raw, 0, () => `#${line}`) };
}

/** The non-blank lines of an NDJSON stream, validated; `counter.lines` counts every line read. */
export async function* readNdjson(input: Readable, counter = { lines: 0 }): AsyncGenerator<LineItem> {
  const lines = split2();
  // .pipe() does not pass a read error on: without this a failing input would hang or crash the process.
  input.once("error", (e) => lines.destroy(e));
  for await (const text of input.pipe(lines) as AsyncIterable<string>) {
    const line = ++counter.lines;
    if (text.trim() === "") continue;
    yield parseLine(text, line);
  }
}

export function emptySummary(): IngestSummary {
  return {
    lines: 0,
    applied: 0,
    duplicates: 0,
    rejected: 0,
    rejectedByCode: {},
    transitions: 0,
    batches: 0,
  };
}

/**
 * The item renumbered to its place in the batch (what rejections report as `index`). An event item
 * is renumbered in place (it is the reader's own, fresh object): this runs for every line.
 */
function atIndex(it: ParsedItem, index: number): ParsedItem {
  if ("event" in it) {
    it.index = index;
    return it;
  }
  return { index, rejected: { ...it.rejected, index } };
}

/** Applies validated items in batches of `batchSize`, in input order, one transaction per batch. */
export async function ingestItems(
  items: AsyncIterable<LineItem> | Iterable<LineItem>,
  applier: EventApplier,
  o: IngestOptions,
): Promise<IngestSummary> {
  const summary = emptySummary();
  let rejects: WriteStream | null = null;
  const writeReject = async (text: string) => {
    rejects ??= createWriteStream(o.rejectsPath!, { flags: "w" });
    if (!rejects.write(text)) await new Promise<void>((res) => rejects!.once("drain", () => res()));
  };

  const flush = async (batch: ParsedItem[], lineNos: number[], lastLine: number) => {
    if (batch.length === 0) return;
    const outcome = await applier.applyParsed(batch);
    summary.batches++;
    summary.lines = lastLine;
    summary.applied += outcome.applied;
    summary.duplicates += outcome.duplicates;
    summary.transitions += outcome.transitions.length;
    for (const r of outcome.rejected) {
      summary.rejected++;
      summary.rejectedByCode[r.code] = (summary.rejectedByCode[r.code] ?? 0) + 1;
      if (o.rejectsPath) {
        const line = lineNos[r.index]!;
        await writeReject(
          `${JSON.stringify({ line, eventId: r.eventId, code: r.code, message: r.message })}\n`,
        );
      }
    }
    o.onBatch?.(summary, outcome);
  };

  let batch: ParsedItem[] = [];
  let lineNos: number[] = [];
  let lastLine = 0;
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for await (const { line, item } of items) {
      lastLine = line;
      lineNos.push(line);
      batch.push(atIndex(item, batch.length));
      if (batch.length >= o.batchSize) {
        const [b, l, last] = [batch, lineNos, lastLine];
        batch = [];
        lineNos = [];
        await inFlight;
        inFlight = flush(b, l, last);
        // Handled when awaited (next batch or the end); this only stops an early failure from
        // being reported as unhandled while the next batch is being read.
        inFlight.catch(() => undefined);
      }
    }
    await inFlight;
    await flush(batch, lineNos, lastLine);
  } finally {
    await inFlight.catch(() => undefined);
    if (rejects) await new Promise<void>((res) => (rejects as WriteStream).end(() => res()));
  }
  return summary;
}

/** `ingest FILE`: an NDJSON stream through the same path. */
export async function ingestStream(
  input: Readable,
  applier: EventApplier,
  o: IngestOptions,
): Promise<IngestSummary> {
  const counter = { lines: 0 };
  const s = await ingestItems(readNdjson(input, counter), applier, o);
  s.lines = counter.lines;
  return s;
}
