import { type DataSource } from "typeorm";
import { type Config } from "./config";
import { type ApplyOutcome, EventApplier } from "./ingest/applyEvents";
import { type Logger } from "./logger";
import { Metrics } from "./observability/metrics";
import { currentRequestScope } from "./observability/requestScope";
import { type StatementCounter, createDataSource, migrate } from "./persistence/dataSource";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./persistence/embeddedPostgres";
import { FlowStore } from "./persistence/flowStore";
import { ReadStore } from "./persistence/readStore";
import { createReadRouter, poolOf } from "./persistence/readRouting";

/**
 * The composition root of every process (server and CLI): the database (configured or embedded),
 * migrations, and the services. Nothing here knows HTTP or argv.
 */
export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly databaseUrl: string;
  readonly embedded: boolean;
  /** The primary: writes, the transition feed, exports, keys, migrations. */
  readonly ds: DataSource;
  /** Read replicas (READ_REPLICA_URLS) when opened with `readReplicas`; empty otherwise. */
  readonly replicas: readonly DataSource[];
  /** GraphQL reads: round-robin over the replicas when there are any, else the primary. */
  readonly readStore: ReadStore;
  /** The same reads on the primary, for what must see its latest commits (subscription payloads). */
  readonly primaryReadStore: ReadStore;
  /** Registration update files (export-flows, reconcile, their GraphQL view): always the primary. */
  readonly flowStore: FlowStore;
  readonly metrics: Metrics;
  readonly applier: EventApplier;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly migrate?: boolean;
  readonly counter?: StatementCounter;
  readonly onCommitted?: (o: ApplyOutcome) => void;
  /** Override the URL (tests); otherwise DATABASE_URL or the embedded database. */
  readonly databaseUrl?: string;
  /**
   * Open READ_REPLICA_URLS and route GraphQL reads to them (the server). Off for CLI commands, which
   * read and write the primary only and must not fail because a replica is away.
   */
  readonly readReplicas?: boolean;
}

export async function resolveDatabase(
  config: Config,
  log: Logger,
): Promise<{ url: string; embedded: EmbeddedDatabase | null }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: null };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    port: config.EMBEDDED_PG_PORT,
    database: "smi_gateway",
    onLog: (line) => log.debug({ component: "embedded-postgres" }, line),
  });
  log.info({ dataDir: config.DATA_DIR }, "using the embedded PostgreSQL");
  return { url: embedded.url, embedded };
}

export async function openApp(config: Config, log: Logger, o: OpenOptions = {}): Promise<App> {
  const db = o.databaseUrl ? { url: o.databaseUrl, embedded: null } : await resolveDatabase(config, log);
  const ds = createDataSource({ url: db.url, poolSize: config.DB_POOL_SIZE, counter: o.counter });
  try {
    await ds.initialize();
    if (o.migrate !== false) {
      const applied = await migrate(ds);
      if (applied.length > 0) log.info({ migrations: applied }, "applied migrations");
    }
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    await db.embedded?.stop();
    throw e;
  }
  const replicas: DataSource[] = [];
  if (o.readReplicas === true) {
    try {
      for (const [i, url] of config.READ_REPLICA_URLS.entries()) {
        const r = createDataSource({
          url,
          poolSize: config.DB_POOL_SIZE,
          counter: o.counter,
          applicationName: "smi-gateway-read",
        });
        await r.initialize().catch((e: unknown) => {
          // The URL holds a password: name the replica by its position, never by its URL.
          throw new Error(
            `read replica ${i + 1} of READ_REPLICA_URLS could not be reached: ${(e as Error).message}`,
          );
        });
        replicas.push(r);
      }
    } catch (e) {
      for (const r of replicas) await r.destroy().catch(() => undefined);
      await ds.destroy().catch(() => undefined);
      await db.embedded?.stop();
      throw e;
    }
    if (replicas.length > 0) log.info({ replicas: replicas.length }, "GraphQL reads go to the read replicas");
  }
  const metrics = new Metrics();
  metrics.addPool("primary", poolOf(ds), config.DB_POOL_SIZE);
  replicas.forEach((r, i) => {
    metrics.addPool(`replica-${i + 1}`, poolOf(r), config.DB_POOL_SIZE);
    // Up: it has just been connected to (a replica that cannot be reached stops the open above).
    metrics.setReplicaUp(`replica-${i + 1}`, true);
  });
  const reader = createReadRouter(ds, replicas, {
    mustUsePrimary: () => currentRequestScope()?.readFromPrimary === true,
    onFallback: (i, e) =>
      log.warn(
        { replica: i + 1, err: (e as Error).message },
        "read replica unreachable: read from the primary",
      ),
  });
  const onCommitted = (outcome: ApplyOutcome) => {
    metrics.recordOutcome(outcome);
    o.onCommitted?.(outcome);
  };
  const rules = {
    whitelistedPolicy: config.WHITELISTED_POLICY,
    extraDistributors: config.EXTRA_DISTRIBUTORS,
  };
  return {
    config,
    log,
    databaseUrl: db.url,
    embedded: db.embedded !== null,
    ds,
    replicas,
    readStore: new ReadStore(reader),
    primaryReadStore: new ReadStore(ds),
    flowStore: new FlowStore(ds),
    metrics,
    applier: new EventApplier(ds, rules, onCommitted),
    async close() {
      for (const r of replicas) {
        await r.destroy().catch((e: unknown) => log.warn({ err: e }, "closing a replica pool failed"));
      }
      await ds.destroy().catch((e: unknown) => log.warn({ err: e }, "closing the pool failed"));
      await db.embedded?.stop();
    },
  };
}
