import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type FlowFileRow, type FlowStore } from "../persistence/flowStore";
import { createFlowFormat, type FlowFormatOptions } from "./flowFormat";
import { type FlowKind } from "./flowRecord";
import { writeFileAtomic } from "./writeFileAtomic";

/**
 * `export-flows` (SPEC §7): one file per network operator with the changes since the last file sent
 * to it. Two phases per file, so a crash never loses or duplicates a record:
 *
 *   1. prepare — in one transaction: the records (latest flag per MPxN, not equal to the flag last
 *      sent, never null), the file id, the horizon (FlowStore.prepareFiles);
 *   2. write — atomically (temp name, fsync, rename), then mark the file sent.
 *
 * A run first writes every file prepared but not marked sent by an earlier run (it crashed between
 * 1 and 2, or between the write and the mark): the same id, the same records, the same bytes, since
 * the header's timestamp is the stored preparation time. Only then does it prepare new files.
 */
export interface ExportFlowsOptions extends FlowFormatOptions {
  readonly outDir: string;
  /** Split a recipient's changes into files of at most this many records; null: no cap. */
  readonly maxRecords: number | null;
  /** Called after a file is on disk and before it is recorded as sent (the crash test's seam). */
  readonly onFileWritten?: (f: ExportedFile) => void | Promise<void>;
  readonly onProgress?: (records: number) => void;
  /** Records fetched per round trip while writing a file. */
  readonly pageSize?: number;
}

export interface ExportedFile {
  readonly recipient: string;
  readonly flow: FlowKind;
  readonly fileId: number;
  readonly fileName: string;
  readonly path: string;
  readonly recordCount: number;
  readonly bytes: number;
  /** True when this run rewrote a file an earlier run had prepared but not recorded as sent. */
  readonly rewritten: boolean;
}

export interface ExportFlowsSummary {
  /** Every transition with a sequence up to here has been taken into a file (or needed none). */
  readonly horizon: string;
  readonly files: ExportedFile[];
  readonly records: number;
  /** Transitions up to the horizon that carry no network operator, so no file can address them. */
  readonly unroutable: number;
}

export async function exportFlows(store: FlowStore, o: ExportFlowsOptions): Promise<ExportFlowsSummary> {
  if (o.maxRecords !== null && (!Number.isInteger(o.maxRecords) || o.maxRecords < 1))
    throw new RangeError(`expected maxRecords as a positive integer or null, got ${o.maxRecords}`);
  await mkdir(o.outDir, { recursive: true });
  return store.withExportLock(async () => {
    const files: ExportedFile[] = [];
    let records = 0;
    const send = async (f: FlowFileRow, rewritten: boolean) => {
      const written = await writeFlowFile(store, f, o, rewritten);
      await o.onFileWritten?.(written);
      await store.markSent(f);
      files.push(written);
      records += written.recordCount;
      o.onProgress?.(records);
    };

    for (const f of await store.unsentFiles()) await send(f, true);

    const horizon = await store.settledHorizon();
    // The export needs only who has changes; counting distinct meter points would sort them all.
    const { recipients, unroutable } = await store.pendingRecipients(horizon, { countMeterPoints: false });
    for (const r of recipients) {
      const prepared = await store.prepareFiles(r.networkOperator, r.flow, horizon, o.maxRecords);
      for (const f of prepared) await send(f, false);
    }
    return { horizon, files, records, unroutable };
  });
}

async function writeFlowFile(
  store: FlowStore,
  f: FlowFileRow,
  o: ExportFlowsOptions,
  rewritten: boolean,
): Promise<ExportedFile> {
  const format = createFlowFormat(f.flow, o);
  const header = { fileId: f.fileId, recipient: f.networkOperator, createdAt: f.preparedAt };
  const pageSize = o.pageSize ?? 20_000;
  let count = 0;
  async function* chunks(): AsyncGenerator<string> {
    yield format.header(header);
    let after = "";
    for (;;) {
      const page = await store.fileRecords(f, after, pageSize);
      if (page.length === 0) break;
      let text = "";
      for (const r of page) text += format.record(r);
      count += page.length;
      after = page[page.length - 1]!.mpxn;
      yield text;
    }
    // The stored count is the contract; a difference means the last-sent rows were changed under us.
    if (count !== f.recordCount)
      throw new Error(`expected ${f.recordCount} records in ${f.fileName}, read ${count}`);
    yield format.trailer(header, count);
  }
  const target = path.join(o.outDir, f.fileName);
  const bytes = await writeFileAtomic(target, chunks());
  return {
    recipient: f.networkOperator,
    flow: f.flow,
    fileId: f.fileId,
    fileName: f.fileName,
    path: target,
    recordCount: count,
    bytes,
    rewritten,
  };
}
