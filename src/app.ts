import { type DataSource } from "typeorm";
import { type Config } from "./config";
import { type ApplyOutcome, EventApplier } from "./ingest/applyEvents";
import { type Logger } from "./logger";
import { type StatementCounter, createDataSource, migrate } from "./persistence/dataSource";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./persistence/embeddedPostgres";
import { ReadStore } from "./persistence/readStore";

/**
 * The composition root of every process (server and CLI): the database (configured or embedded),
 * migrations, and the services. Nothing here knows HTTP or argv.
 */
export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly databaseUrl: string;
  readonly embedded: boolean;
  readonly ds: DataSource;
  readonly readStore: ReadStore;
  readonly applier: EventApplier;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly migrate?: boolean;
  readonly counter?: StatementCounter;
  readonly onCommitted?: (o: ApplyOutcome) => void;
  /** Override the URL (tests); otherwise DATABASE_URL or the embedded database. */
  readonly databaseUrl?: string;
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
    readStore: new ReadStore(ds),
    applier: new EventApplier(ds, rules, o.onCommitted),
    async close() {
      await ds.destroy().catch((e: unknown) => log.warn({ err: e }, "closing the pool failed"));
      await db.embedded?.stop();
    },
  };
}
