import { type StoredTransition } from "../persistence/inventoryStore";
import { type TransitionFilterQuery } from "../persistence/readStore";
import { matchesTransition } from "./transitionMatch";

/** Why a subscription ended early; stable wire values (`extensions.code`). */
export enum SubscriptionEndCode {
  /** Its queue passed the bound: the client reads slower than transitions arrive. */
  SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW",
  /** The database could not be read for its replay. */
  SUBSCRIPTION_UNAVAILABLE = "SUBSCRIPTION_UNAVAILABLE",
  /** The server is shutting down. */
  SHUTTING_DOWN = "SHUTTING_DOWN",
}

/** Ends a subscription; the client resumes with `after` = the last sequence it received. */
export class SubscriptionEndedError extends Error {
  override readonly name = "SubscriptionEndedError";
  constructor(
    readonly code: SubscriptionEndCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a subscription needs of its feed. */
export interface FeedPort {
  /** Resolves once the feed knows its position. */
  readonly ready: Promise<void>;
  /** Every settled transition ≤ position has been offered to every attached subscription. */
  position(): bigint;
  attach(s: TransitionSubscription): void;
  detach(s: TransitionSubscription): void;
  readPage(
    q: TransitionFilterQuery,
    after: bigint,
    through: bigint,
    limit: number,
  ): Promise<StoredTransition[]>;
}

export interface SubscriptionOptions {
  readonly query: TransitionFilterQuery;
  /** Replay from after this sequence; null: live from the feed's current position. */
  readonly after: bigint | null;
  /** At most this many transitions wait for the client; one more ends the subscription. */
  readonly queueLimit: number;
  /** Replay page size (capped so that a page always fits in the queue). */
  readonly pageSize?: number;
  /** Called before each transition is handed to the consumer (e.g. to renew per-event caches). */
  readonly onYield?: () => void;
}

/**
 * One subscriber: an async iterator of transitions in strictly increasing sequence.
 *
 * It starts *behind*: it replays from the table (`after` < sequence ≤ the feed's position), page
 * by page, pacing itself on the consumer, and re-reads the feed's position after each page. When
 * the replay has reached the position, it attaches to the live fan-out in the same synchronous step
 * as that check, so the fan-out offers it exactly the transitions above the position: no gap. Every
 * transition at or below the last one queued is dropped: no duplicate, strictly increasing.
 *
 * Live, the feed pushes matching transitions into a bounded queue that the consumer (graphql-ws,
 * which pulls the next one only when the socket has taken the previous one) drains. Past the bound
 * the subscription drops its queue, detaches and ends with SUBSCRIBER_TOO_SLOW: memory stays bounded
 * and the feed never waits for anyone.
 */
export class TransitionSubscription implements AsyncIterableIterator<StoredTransition> {
  readonly query: TransitionFilterQuery;
  private readonly limit: number;
  private readonly pageSize: number;
  private queue: StoredTransition[] = [];
  private head = 0;
  private last: bigint;
  private live = false;
  private done = false;
  private failure: SubscriptionEndedError | null = null;
  private waiter: {
    resolve: (r: IteratorResult<StoredTransition>) => void;
    reject: (e: unknown) => void;
  } | null = null;
  private roomWaiter: (() => void) | null = null;

  constructor(
    private readonly feed: FeedPort,
    private readonly o: SubscriptionOptions,
  ) {
    if (!Number.isInteger(o.queueLimit) || o.queueLimit < 1)
      throw new Error(`expected queueLimit to be a positive integer, got ${o.queueLimit}`);
    this.query = o.query;
    this.limit = o.queueLimit;
    this.pageSize = Math.max(1, Math.min(o.pageSize ?? 500, Math.floor(o.queueLimit / 2)));
    this.last = o.after ?? -1n;
    void this.catchUp();
  }

  /** Transitions waiting for the consumer. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** The last sequence queued (the consumer's cursor once it has drained the queue). */
  get lastSequence(): string | null {
    return this.last < 0n ? null : this.last.toString();
  }

  private async catchUp(): Promise<void> {
    try {
      await this.feed.ready;
      if (this.done) return;
      let replayed = this.o.after ?? this.feed.position();
      if (this.o.after === null) this.last = replayed;
      for (;;) {
        if (this.done) return;
        const target = this.feed.position();
        if (replayed >= target) {
          // Synchronously with the check: from here the fan-out offers everything above `target`.
          this.live = true;
          this.feed.attach(this);
          return;
        }
        await this.waitForRoom();
        if (this.done) return;
        const rows = await this.feed.readPage(this.query, replayed, target, this.pageSize);
        if (this.done) return;
        for (const t of rows) this.enqueue(t, BigInt(t.sequence));
        const lastRow = rows[rows.length - 1];
        replayed = rows.length < this.pageSize || !lastRow ? target : BigInt(lastRow.sequence);
      }
    } catch (e) {
      this.end(
        new SubscriptionEndedError(
          SubscriptionEndCode.SUBSCRIPTION_UNAVAILABLE,
          `the transition history could not be read (${e instanceof Error ? e.message : String(e)}); resume with after = the last sequence received`,
        ),
      );
    }
  }

  /** Called by the feed's fan-out, synchronously, in sequence order. */
  offer(t: StoredTransition, sequence: bigint): void {
    if (this.done || sequence <= this.last || !matchesTransition(this.query, t)) return;
    if (this.queued >= this.limit) {
      this.end(
        new SubscriptionEndedError(
          SubscriptionEndCode.SUBSCRIBER_TOO_SLOW,
          `subscriber too slow: more than ${this.limit} transitions were waiting to be sent; resume with after = the last sequence received`,
        ),
      );
      return;
    }
    this.enqueue(t, sequence);
  }

  /** Ends the subscription: queued transitions are dropped, the consumer sees `error` next. */
  end(error: SubscriptionEndedError | null): void {
    if (this.done) return;
    this.done = true;
    this.live = false;
    this.feed.detach(this);
    this.queue = [];
    this.head = 0;
    this.roomWaiter?.();
    this.roomWaiter = null;
    const w = this.waiter;
    this.waiter = null;
    if (w) {
      if (error) w.reject(error);
      else w.resolve({ done: true, value: undefined });
    } else this.failure = error;
  }

  private enqueue(t: StoredTransition, sequence: bigint): void {
    if (sequence <= this.last) return;
    this.last = sequence;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      this.o.onYield?.();
      w.resolve({ done: false, value: t });
      return;
    }
    this.queue.push(t);
  }

  private waitForRoom(): Promise<void> {
    if (this.queued + this.pageSize <= this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      this.roomWaiter = resolve;
    });
  }

  next(): Promise<IteratorResult<StoredTransition>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.roomWaiter && this.queued + this.pageSize <= this.limit) {
        const r = this.roomWaiter;
        this.roomWaiter = null;
        r();
      }
      this.o.onYield?.();
      return Promise.resolve({ done: false, value });
    }
    if (this.failure) {
      const f = this.failure;
      this.failure = null;
      return Promise.reject(f);
    }
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    if (this.roomWaiter) {
      const r = this.roomWaiter;
      this.roomWaiter = null;
      r();
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<StoredTransition>> {
    this.end(null);
    this.failure = null;
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(e?: unknown): Promise<IteratorResult<StoredTransition>> {
    this.end(null);
    this.failure = null;
    return Promise.reject(e);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
