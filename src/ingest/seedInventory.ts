import { type EventApplier } from "./applyEvents";
import { buildDecisionVectors } from "./decisionVectors";
import { type SeedOptions, generateSeedEvents } from "./seed";
import { type RawEvent } from "./synthetic";

export interface SeedSummary {
  events: number;
  applied: number;
  duplicates: number;
  rejected: number;
  transitions: number;
}

/** Applies a stream of raw events in batches through the one EventApplier. */
export async function applyRawEvents(
  events: Iterable<RawEvent>,
  applier: EventApplier,
  batchSize: number,
  onBatch?: (s: Readonly<SeedSummary>) => void,
): Promise<SeedSummary> {
  const s: SeedSummary = { events: 0, applied: 0, duplicates: 0, rejected: 0, transitions: 0 };
  let batch: RawEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const o = await applier.applyRaw(batch);
    s.events += batch.length;
    s.applied += o.applied;
    s.duplicates += o.duplicates;
    s.rejected += o.rejected.length;
    s.transitions += o.transitions.length;
    batch = [];
    onBatch?.(s);
  };
  for (const e of events) {
    batch.push(e);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return s;
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
