import { type DataSource, type EntityManager } from "typeorm";
import { DomainError } from "../domain/DomainError";
import { type SmiEvent, namedKeys, parseEvent, peekEventId } from "../domain/events";
import { type InventoryRules, InventoryWorkingSet } from "../domain/inventory";
import { type StoredTransition, loadWorkingSet, persistWorkingSet } from "../persistence/inventoryStore";

export interface RejectedEvent {
  /** The event's id, or `line N` / `#N` when the event had no usable id. */
  readonly eventId: string;
  /** Position of the event in its batch (0-based). */
  readonly index: number;
  readonly code: string;
  readonly message: string;
}

export interface ApplyOutcome {
  readonly applied: number;
  readonly duplicates: number;
  readonly rejected: RejectedEvent[];
  /** Transitions this batch recorded, in sequence order. */
  readonly transitions: StoredTransition[];
}

export type ParsedItem = { index: number; event: SmiEvent } | { index: number; rejected: RejectedEvent };

/** Validates one raw event (pure): an event, or a rejection named by its id or else by `ref()`. */
export function parseItem(raw: unknown, index: number, ref: () => string): ParsedItem {
  try {
    return { index, event: parseEvent(raw) };
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return {
      index,
      rejected: { eventId: peekEventId(raw) ?? ref(), index, code: e.code, message: e.message },
    };
  }
}

/** Validates raw events (pure): each becomes an event or a rejection; none is dropped. */
export function parseBatch(
  raws: readonly unknown[],
  refOf: (i: number) => string = (i) => `#${i}`,
): ParsedItem[] {
  return raws.map((raw, index) => parseItem(raw, index, () => refOf(index)));
}

/** PostgreSQL errors after which the whole transaction is safely retried from the start. */
const RETRYABLE = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "23505", // unique_violation: a concurrent batch created the same device, meter point or event id
]);
const MAX_ATTEMPTS = 8;

/**
 * Batches at least this big may skip the look-up of already-applied event ids (see
 * EventApplier.expectNewEvents); smaller ones (the live mutation) always look them up.
 */
export const OPTIMISTIC_BATCH_SIZE = 1000;

/** The unique violation of an event id already applied: the batch is retried with the look-up. */
const isAppliedEventConflict = (e: unknown): boolean => {
  const err = (e as { driverError?: unknown }).driverError ?? e;
  const { code, constraint } = err as { code?: string; constraint?: string };
  return code === "23505" && constraint === "applied_event_pk";
};

/**
 * Applies batches of SMI and registration events (SPEC §3), each batch in one transaction.
 *
 * The rules live in the domain's InventoryWorkingSet; this service draws the transaction boundary:
 * lock and load what the batch touches (a handful of set-based statements), apply the events in the
 * batch's own order in memory, write every change set-based, and commit. A failure of the database
 * rolls everything back; a retried batch converges to the same state because event ids are
 * idempotency keys.
 */
export class EventApplier {
  /**
   * Whether the last bulk batch held no duplicate. While that holds, bulk batches skip the look-up
   * of their event ids in applied_event (one index probe per event, about a tenth of the database's
   * work in a bulk ingest) and let applied_event's primary key catch a duplicate instead: the batch
   * then rolls back whole and is retried with the look-up, so the outcome is the same either way,
   * and a rerun of a file costs one wasted batch where it meets the applied part.
   */
  private expectNewEvents = false;

  /** Counts since start: batches that skipped the look-up, and those of them that met an applied event. */
  readonly stats = { lookUpsSkipped: 0, lookUpsSkippedInVain: 0 };

  constructor(
    private readonly ds: DataSource,
    private readonly rules: InventoryRules,
    private readonly onCommitted: (o: ApplyOutcome) => void = () => undefined,
  ) {}

  async applyRaw(raws: readonly unknown[], refOf?: (i: number) => string): Promise<ApplyOutcome> {
    return this.applyParsed(parseBatch(raws, refOf));
  }

  async applyParsed(items: readonly ParsedItem[]): Promise<ApplyOutcome> {
    const bulk = items.length >= OPTIMISTIC_BATCH_SIZE;
    let lookUpApplied = !(bulk && this.expectNewEvents);
    for (let attempt = 1; ; attempt++) {
      try {
        if (!lookUpApplied) this.stats.lookUpsSkipped++;
        const outcome = await this.ds.transaction("READ COMMITTED", (m) =>
          this.applyInTransaction(m, items, lookUpApplied),
        );
        if (bulk) this.expectNewEvents = outcome.duplicates === 0;
        this.onCommitted(outcome);
        return outcome;
      } catch (e) {
        if (!lookUpApplied && isAppliedEventConflict(e)) {
          lookUpApplied = true;
          this.expectNewEvents = false;
          this.stats.lookUpsSkippedInVain++;
          attempt--; // not a failure: the optimistic attempt met an applied event
          continue;
        }
        const code =
          (e as { code?: string; driverError?: { code?: string } }).driverError?.code ??
          (e as { code?: string }).code;
        if (attempt < MAX_ATTEMPTS && code !== undefined && RETRYABLE.has(code)) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        throw e;
      }
    }
  }

  private async applyInTransaction(
    m: EntityManager,
    items: readonly ParsedItem[],
    lookUpApplied: boolean,
  ): Promise<ApplyOutcome> {
    const ws = new InventoryWorkingSet(this.rules);
    const eventIds = new Set<string>();
    const deviceIds = new Set<string>();
    const mpxns = new Set<string>();
    for (const it of items) {
      if (!("event" in it)) continue;
      const e = it.event;
      if (lookUpApplied) eventIds.add(e.eventId);
      const k = namedKeys(e);
      if (k.deviceId !== null) deviceIds.add(k.deviceId);
      if (k.mpxn !== null) mpxns.add(k.mpxn);
    }
    await loadWorkingSet(m, ws, {
      eventIds: [...eventIds],
      deviceIds: [...deviceIds],
      mpxns: [...mpxns],
    });

    const rejected: RejectedEvent[] = [];
    let applied = 0;
    let duplicates = 0;
    const appliedEvents: SmiEvent[] = [];
    for (const it of items) {
      if ("rejected" in it) {
        rejected.push(it.rejected);
        continue;
      }
      const e = it.event;
      if (ws.isDuplicate(e.eventId)) {
        duplicates++;
        continue;
      }
      try {
        ws.apply(e);
        applied++;
        appliedEvents.push(e);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        rejected.push({ eventId: e.eventId, index: it.index, code: err.code, message: err.message });
      }
    }
    const transitions = await persistWorkingSet(m, ws, appliedEvents);
    return { applied, duplicates, rejected, transitions };
  }
}
