import { type ApolloServerPlugin } from "@apollo/server";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { type ApplyOutcome } from "../ingest/applyEvents";

/**
 * The process's Prometheus metrics (served at `/metrics`), with a small API so that the rest of the
 * code never touches prom-client:
 *
 * - `observeOperation` / `countError`: fed by `createMetricsPlugin` (Apollo), per GraphQL operation;
 * - `recordOutcome`: fed by the EventApplier's `onCommitted` callback, once per committed batch, so
 *   rolled-back attempts are never counted;
 * - `addPool`: a database pool whose use is read at scrape time;
 * - `setReplicaUp`: whether a read replica answered the last readiness check (`/readyz`);
 * - `setActiveSubscriptions`: a getter the subscription server provides, read at scrape time.
 *
 * One registry per App (not prom-client's global one), so several apps in one process (tests) each
 * count their own.
 *
 * Label cardinality is bounded on purpose: the operation name comes from the client, so only the first
 * `maxOperationNames` distinct names get their own series; later names are counted as `__other`.
 * Error codes are the closed public set plus whatever few Apollo adds.
 */

/** The fields of a pg pool the gauges read (pg-pool's Pool has them). */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** What the feed gauges read of the subscription feed (`TransitionFeed.stats()` has these). */
export interface FeedGauges {
  readonly position: string | null;
  readonly connected: boolean;
}

export interface MetricsOptions {
  /** Prefix of every metric name. */
  readonly prefix?: string;
  /** Distinct operation names with their own series before the rest are `__other`. */
  readonly maxOperationNames?: number;
}

/** Apollo's name for an operation without a name, and ours for one that never resolved. */
export const ANONYMOUS_OPERATION = "__anonymous";
export const UNRESOLVED_OPERATION = "__unresolved";
export const OTHER_OPERATION = "__other";

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export class Metrics {
  readonly registry = new Registry();
  private readonly prefix: string;
  private readonly maxOperationNames: number;
  private readonly operationNames = new Set<string>();
  private readonly requestDuration: Histogram<"operation" | "type">;
  private readonly errors: Counter<"code">;
  private readonly eventsApplied: Counter;
  private readonly eventsDuplicate: Counter;
  private readonly eventsRejected: Counter<"code">;
  private readonly transitions: Counter<"from" | "to">;
  private readonly pools = new Map<string, { pool: PoolStats; max: number }>();
  private readonly replicaUp: Gauge<"replica">;
  private activeSubscriptions: (() => number) | null = null;
  private feed: (() => FeedGauges) | null = null;
  private processMetrics = false;

  constructor(o: MetricsOptions = {}) {
    this.prefix = o.prefix ?? "smi_";
    this.maxOperationNames = o.maxOperationNames ?? 200;
    const p = this.prefix;
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: `${p}graphql_request_duration_seconds`,
      help: "GraphQL operations over HTTP, from request start to response, by operation name and type",
      labelNames: ["operation", "type"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.errors = new Counter({
      name: `${p}graphql_errors_total`,
      help: "GraphQL errors sent to clients, by extensions.code (one per error, several per response possible)",
      labelNames: ["code"],
      registers,
    });
    this.eventsApplied = new Counter({
      name: `${p}events_applied_total`,
      help: "SMI and registration events applied (committed)",
      registers,
    });
    this.eventsDuplicate = new Counter({
      name: `${p}events_duplicate_total`,
      help: "Events skipped because their eventId was already applied",
      registers,
    });
    this.eventsRejected = new Counter({
      name: `${p}events_rejected_total`,
      help: "Events rejected, by code",
      labelNames: ["code"],
      registers,
    });
    this.transitions = new Counter({
      name: `${p}transitions_recorded_total`,
      help: "Service flag transitions recorded (committed), by from and to flag (NULL for null)",
      labelNames: ["from", "to"],
      registers,
    });
    const pools = this.pools;
    new Gauge({
      name: `${p}db_pool_connections`,
      help: "Database pool connections by pool (primary, replica-N) and state (total, idle, in_use, waiting, max)",
      labelNames: ["pool", "state"],
      registers,
      collect() {
        this.reset();
        for (const [name, { pool, max }] of pools) {
          this.set({ pool: name, state: "total" }, pool.totalCount);
          this.set({ pool: name, state: "idle" }, pool.idleCount);
          this.set({ pool: name, state: "in_use" }, pool.totalCount - pool.idleCount);
          this.set({ pool: name, state: "waiting" }, pool.waitingCount);
          this.set({ pool: name, state: "max" }, max);
        }
      },
    });
    // Set, not collected: a scrape must not query the replicas. `/readyz` checks them (each
    // readiness probe keeps it current) and `openApp` starts each at 1, having just connected.
    this.replicaUp = new Gauge({
      name: `${p}read_replica_up`,
      help: "1 while a read replica (replica-N) answered the last /readyz check, 0 while it did not (its reads go to the primary)",
      labelNames: ["replica"],
      registers,
    });
    const feed = () => this.feed;
    new Gauge({
      name: `${p}subscription_feed_position`,
      help: "Highest transition sequence this instance's subscription feed has delivered (compare across instances)",
      registers,
      collect() {
        const position = feed()?.().position;
        this.set(position === null || position === undefined ? 0 : Number(position));
      },
    });
    new Gauge({
      name: `${p}subscription_feed_connected`,
      help: "1 while the subscription feed's LISTEN connection to the primary is up",
      registers,
      collect() {
        this.set(feed()?.().connected ? 1 : 0);
      },
    });
    const active = () => this.activeSubscriptions;
    new Gauge({
      name: `${p}subscriptions_active`,
      help: "GraphQL subscriptions currently open on this instance",
      registers,
      collect() {
        const read = active();
        this.set(read ? read() : 0);
      },
    });
  }

  /** Records one GraphQL operation's duration. `name` comes from the client and is bounded here. */
  observeOperation(name: string | null, type: string, seconds: number): void {
    this.requestDuration.observe({ operation: this.boundedName(name), type }, seconds);
  }

  countError(code: string): void {
    this.errors.inc({ code });
  }

  /** One committed batch (the EventApplier's `onCommitted`). */
  recordOutcome(o: ApplyOutcome): void {
    if (o.applied > 0) this.eventsApplied.inc(o.applied);
    if (o.duplicates > 0) this.eventsDuplicate.inc(o.duplicates);
    for (const r of o.rejected) this.eventsRejected.inc({ code: r.code });
    for (const t of o.transitions) this.transitions.inc({ from: t.from ?? "NULL", to: t.to ?? "NULL" });
  }

  /** A database pool to report on; `max` is its configured size. */
  addPool(name: string, pool: PoolStats, max: number): void {
    this.pools.set(name, { pool, max });
  }

  /** Whether read replica `name` (`replica-N`) answered the last readiness check. */
  setReplicaUp(name: string, up: boolean): void {
    this.replicaUp.set({ replica: name }, up ? 1 : 0);
  }

  /** The subscription server's count of open subscriptions, read at each scrape. */
  setActiveSubscriptions(read: () => number): void {
    this.activeSubscriptions = read;
  }

  /** The subscription feed's position and connection, read at each scrape. */
  setFeed(read: () => FeedGauges): void {
    this.feed = read;
  }

  /** Node's process metrics (CPU, memory, event-loop lag, GC): for a server, not for a CLI run. */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: this.prefix });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  private boundedName(name: string | null): string {
    if (name === null || name === "") return ANONYMOUS_OPERATION;
    if (!OPERATION_NAME.test(name)) return OTHER_OPERATION;
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= this.maxOperationNames) return OTHER_OPERATION;
    this.operationNames.add(name);
    return name;
  }
}

const codeOf = (e: { extensions?: Record<string, unknown> }): string => {
  const code = e.extensions?.code;
  return typeof code === "string" ? code : "INTERNAL_SERVER_ERROR";
};

/**
 * The Apollo plugin that feeds `Metrics`: the latency of every operation by name and type
 * (`query`, `mutation`, `unknown` when it never resolved, e.g. a syntax error), and every error
 * sent, by its public code. Codes are read from the response after `formatError`, so they are the
 * codes clients see (an unknown error counts as INTERNAL_SERVER_ERROR). A request refused before
 * the operation runs (authentication in the context function, a malformed HTTP request) counts its
 * error code too.
 */
export function createMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async contextCreationDidFail({ error }) {
      metrics.countError(codeOf(error as { extensions?: Record<string, unknown> }));
    },
    async invalidRequestWasReceived() {
      metrics.countError("BAD_REQUEST");
    },
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const type = rc.operation?.operation ?? "unknown";
          const name = rc.operation ? (rc.operationName ?? null) : UNRESOLVED_OPERATION;
          metrics.observeOperation(name, type, seconds);
          const body = rc.response.body;
          const errors = body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
          for (const e of errors ?? []) metrics.countError(codeOf(e));
        },
      };
    },
  };
}
