import { type EventApplier } from "./applyEvents";
import { buildDecisionVectors } from "./decisionVectors";
import { type IngestSummary, type LineItem, ingestItems, parseRawItem } from "./ingestStream";
import { type SeedOptions, generateSeedEvents } from "./seed";
import { type RawEvent } from "./synthetic";

export interface SeedSummary extends IngestSummary {
  /** Events generated (= lines of the equivalent NDJSON file). */
  events: number;
}

/**
 * `seed`: the synthetic inventory's events go through the bulk ingest path (the same batches,
 * transactions and rules as `ingest FILE`), minus the JSON text in between.
 */
export async function applyRawEvents(
  events: Iterable<RawEvent>,
  applier: EventApplier,
  batchSize: number,
  onBatch?: (s: Readonly<SeedSummary>) => void,
): Promise<SeedSummary> {
  function* items(): Generator<LineItem> {
    let n = 0;
    for (const e of events) yield parseRawItem(e, ++n);
  }
  const s = await ingestItems(items(), applier, {
    batchSize,
    onBatch: onBatch && ((sum) => onBatch({ ...sum, events: sum.lines })),
  });
  return { ...s, events: s.lines };
}

export async function seedInventory(
  applier: EventApplier,
  o: SeedOptions & { batchSize: number; withDecisionVectors?: boolean },
  onBatch?: (s: Readonly<SeedSummary>) => void,
): Promise<SeedSummary> {
  function* all(): Generator<RawEvent> {
    if (o.withDecisionVectors) for (const v of buildDecisionVectors("demo-vector")) yield* v.events;
    yield* generateSeedEvents(o);
  }
  return applyRawEvents(all(), applier, o.batchSize, onBatch);
}
