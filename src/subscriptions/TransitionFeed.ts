import { Client } from "pg";
import { type DataSource } from "typeorm";
import { type Logger } from "../logger";
import { type StoredTransition, type TransitionRow } from "../persistence/inventoryStore";
import { type TransitionFilterQuery } from "../persistence/readStore";
import { readTransitionsThrough } from "../persistence/transitionFeedStore";
import {
  type Probe,
  assertSequenceUncached,
  readSequenceHigh,
  readXmin,
  settle,
  takeProbeXid,
} from "./settledHorizon";
import {
  type FeedPort,
  SubscriptionEndCode,
  SubscriptionEndedError,
  TransitionSubscription,
} from "./TransitionSubscription";
import { matchKeyOf } from "./transitionMatch";

/** The wake-up channel; the writer runs `pg_notify('smi_transition', '')` in its transaction. */
export const TRANSITION_CHANNEL = "smi_transition";

export interface FeedOptions {
  readonly databaseUrl: string;
  /**
   * For replays: the app's pool on the primary, so that a replay never queues behind the feed's own
   * reads. Never a read replica: a replica may not yet have rows that the primary has settled.
   */
  readonly ds: DataSource;
  readonly log: Logger;
  /** Poll besides NOTIFY, so that a lost wake-up only delays (ms). */
  readonly pollIntervalMs: number;
  /** Poll while a probe waits for slower writers to end (ms). */
  readonly pendingPollMs?: number;
  /** Default bound of each subscription's queue. */
  readonly queueLimit: number;
  readonly pageSize?: number;
}

export interface FeedStats {
  readonly subscriptions: number;
  readonly liveSubscriptions: number;
  /** Highest sequence delivered to the fan-out (null before the first settled horizon). */
  readonly position: string | null;
  readonly pendingProbes: number;
  readonly transitionsRead: number;
  readonly connected: boolean;
}

/**
 * One per process: reads settled transitions (see settledHorizon.ts) from the transitions table in
 * sequence order and fans them out to this process's subscriptions.
 *
 * One dedicated connection LISTENs on `smi_transition` and runs the feed's reads; a notification
 * only wakes the loop (it carries nothing), and a timer wakes it too, so a lost notification only
 * delays. When the connection breaks (database restart), the loop reconnects with backoff, LISTENs
 * again and catches up from its position: a subscriber sees a pause, never a gap.
 */
export class TransitionFeed implements FeedPort {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private pos: bigint | null = null;
  private settledHigh: bigint | null = null;
  private probedHigh = -1n;
  private probes: Probe[] = [];
  private client: Client | null = null;
  private stopped = false;
  private woken = false;
  private wakeTimer: { resolve: () => void; timer: NodeJS.Timeout } | null = null;
  private loopDone: Promise<void> | null = null;
  private transitionsRead = 0;
  private readonly pageSize: number;

  private readonly all = new Set<TransitionSubscription>();
  private readonly byNetwork = new Map<string, Set<TransitionSubscription>>();
  private readonly bySupplier = new Map<string, Set<TransitionSubscription>>();
  private readonly byMpxn = new Map<string, Set<TransitionSubscription>>();
  private readonly subscriptions = new Set<TransitionSubscription>();

  constructor(private readonly o: FeedOptions) {
    this.pageSize = o.pageSize ?? 1000;
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** Connects, checks the sequence, and resolves once the first settled horizon is known. */
  async start(): Promise<void> {
    const c = await this.connection();
    await assertSequenceUncached(c);
    this.loopDone = this.loop();
    await Promise.race([this.ready, this.loopDone]);
  }

  /** Ends every subscription (SHUTTING_DOWN) and closes the connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of [...this.subscriptions])
      s.end(
        new SubscriptionEndedError(
          SubscriptionEndCode.SHUTTING_DOWN,
          "the server is shutting down; resume with after = the last sequence received",
        ),
      );
    this.wake();
    // A read stuck on an unreachable database must not hold shutdown for long: closing the
    // connection below fails it, and the loop sees `stopped`.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loopDone, new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    await this.dropConnection();
    await this.loopDone;
  }

  /** A new subscription (see TransitionSubscription for replay → live). */
  subscribe(
    query: TransitionFilterQuery,
    after: bigint | null,
    onYield?: () => void,
  ): TransitionSubscription {
    if (this.stopped)
      throw new SubscriptionEndedError(SubscriptionEndCode.SHUTTING_DOWN, "the server is shutting down");
    const s = new TransitionSubscription(this, {
      query,
      after,
      queueLimit: this.o.queueLimit,
      onYield,
    });
    this.subscriptions.add(s);
    return s;
  }

  /** For metrics and tests. */
  stats(): FeedStats {
    let live = 0;
    for (const s of this.subscriptions) if (s.isLive) live++;
    return {
      subscriptions: this.subscriptions.size,
      liveSubscriptions: live,
      position: this.pos === null ? null : this.pos.toString(),
      pendingProbes: this.probes.length,
      transitionsRead: this.transitionsRead,
      connected: this.client !== null,
    };
  }

  /** Wakes the loop now (a notification, or a local commit). */
  wake(): void {
    this.woken = true;
    const w = this.wakeTimer;
    if (w) {
      this.wakeTimer = null;
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  // ---- FeedPort -------------------------------------------------------------------------------

  position(): bigint {
    if (this.pos === null) throw new Error("expected the feed to be ready before its position is read");
    return this.pos;
  }

  attach(s: TransitionSubscription): void {
    const k = matchKeyOf(s.query);
    const add = (m: Map<string, Set<TransitionSubscription>>, key: string) => {
      let set = m.get(key);
      if (!set) m.set(key, (set = new Set()));
      set.add(s);
    };
    switch (k.kind) {
      case "all":
        this.all.add(s);
        break;
      case "network":
        add(this.byNetwork, k.value);
        break;
      case "supplier":
        add(this.bySupplier, k.value);
        break;
      case "mpxn":
        for (const m of k.values) add(this.byMpxn, m);
        break;
    }
  }

  detach(s: TransitionSubscription): void {
    this.subscriptions.delete(s);
    const k = matchKeyOf(s.query);
    const del = (m: Map<string, Set<TransitionSubscription>>, key: string) => {
      const set = m.get(key);
      if (set?.delete(s) && set.size === 0) m.delete(key);
    };
    switch (k.kind) {
      case "all":
        this.all.delete(s);
        break;
      case "network":
        del(this.byNetwork, k.value);
        break;
      case "supplier":
        del(this.bySupplier, k.value);
        break;
      case "mpxn":
        for (const m of k.values) del(this.byMpxn, m);
        break;
    }
  }

  readPage(
    q: TransitionFilterQuery,
    after: bigint,
    through: bigint,
    limit: number,
  ): Promise<StoredTransition[]> {
    return readTransitionsThrough((sql, params) => this.o.ds.query(sql, params), q, after, through, limit);
  }

  // ---- the loop -------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const c = await this.connection();
        await this.tick(c);
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        failures++;
        this.o.log.warn({ err: e, failures }, "transition feed: database read failed; reconnecting");
        await this.dropConnection();
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      await this.sleep(this.probes.length > 0 ? (this.o.pendingPollMs ?? 25) : this.o.pollIntervalMs);
    }
  }

  /** One round: probe the sequence, settle what can be settled, deliver up to the horizon. */
  private async tick(c: Client): Promise<void> {
    const { seqHigh, xmin: xmin0 } = await readSequenceHigh(c);
    let xmin = xmin0;
    if (seqHigh > this.probedHigh) {
      // Ordering matters: the id is taken in a statement after the one that read seqHigh.
      const xid = await takeProbeXid(c);
      this.probes.push({ seqHigh, xid });
      this.probedHigh = seqHigh;
      xmin = await readXmin(c);
    }
    const { horizon, pending } = settle(this.probes, xmin);
    this.probes = pending;
    if (horizon !== null && (this.settledHigh === null || horizon > this.settledHigh))
      this.settledHigh = horizon;
    if (this.settledHigh === null) return;
    if (this.pos === null) {
      // Start: subscribers without a cursor begin here; those with one replay up to here first.
      this.pos = this.settledHigh;
      this.markReady();
      return;
    }
    while (this.pos < this.settledHigh && !this.stopped) {
      const through = this.settledHigh;
      const rows = await readTransitionsThrough(
        async (sql, params) => (await c.query<TransitionRow>(sql, params)).rows,
        {},
        this.pos,
        through,
        this.pageSize,
      );
      this.transitionsRead += rows.length;
      for (const t of rows) this.fanOut(t);
      const lastRow = rows[rows.length - 1];
      // Synchronously with the fan-out: the position is what attached subscriptions have been offered.
      this.pos = rows.length < this.pageSize || !lastRow ? through : BigInt(lastRow.sequence);
    }
  }

  private fanOut(t: StoredTransition): void {
    const seq = BigInt(t.sequence);
    for (const s of this.all) s.offer(t, seq);
    if (t.networkOperator !== null)
      for (const s of this.byNetwork.get(t.networkOperator) ?? []) s.offer(t, seq);
    if (t.supplier !== null) for (const s of this.bySupplier.get(t.supplier) ?? []) s.offer(t, seq);
    for (const s of this.byMpxn.get(t.mpxn) ?? []) s.offer(t, seq);
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const c = new Client({
      connectionString: this.o.databaseUrl,
      application_name: "smi-gateway-feed",
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    c.on("error", (e) => {
      // A broken connection (e.g. the database restarted): the next query fails and the loop reconnects.
      this.o.log.warn({ err: e }, "transition feed: connection error");
      if (this.client === c) this.client = null;
      c.end().catch(() => undefined);
      this.wake();
    });
    c.on("notification", () => this.wake());
    try {
      await c.connect();
      await c.query(`LISTEN ${TRANSITION_CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    this.client = c;
    // Whatever was committed while we were away is caught up by the next tick.
    this.wake();
    return c;
  }

  private async dropConnection(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeTimer = null;
        resolve();
      }, ms);
      this.wakeTimer = { resolve, timer };
    }).then(() => {
      this.woken = false;
    });
  }
}
