import "reflect-metadata";
import { DataSource, type Logger, MigrationExecutor, type QueryRunner } from "typeorm";
import { ENTITIES } from "./entities";
import { MIGRATIONS } from "./migrations";

/**
 * Counts the SQL statements sent through a data source. Tests and the statements-per-operation
 * benchmark read it to prove that list sizes do not change how many statements an operation issues.
 */
export class StatementCounter implements Logger {
  count = 0;
  readonly statements: string[] = [];
  constructor(private readonly keep = false) {}
  logQuery(query: string): void {
    this.count++;
    if (this.keep) this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  reset(): void {
    this.count = 0;
    this.statements.length = 0;
  }
}

export interface DataSourceOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly counter?: StatementCounter;
  readonly applicationName?: string;
}

export function createDataSource(o: DataSourceOptions): DataSource {
  return new DataSource({
    type: "postgres",
    url: o.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: "typeorm_migrations",
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    uuidExtension: "pgcrypto",
    logging: o.counter ? ["query"] : false,
    logger: o.counter,
    applicationName: o.applicationName ?? "smi-gateway",
    extra: { max: o.poolSize ?? 20, connectionTimeoutMillis: 10000 },
  });
}

/**
 * Applies pending migrations, then makes the transition partitions ahead of the sequence.
 *
 * TypeORM has no migration lock of its own: two instances starting together would both run a
 * pending migration. A session advisory lock serialises them; the migrations run on the very
 * connection that holds it (so a pool of one connection suffices), and whoever waited finds
 * nothing pending.
 */
export async function migrate(ds: DataSource): Promise<string[]> {
  const qr = ds.createQueryRunner();
  try {
    await qr.query("SELECT pg_advisory_lock(hashtext('smi_gateway_migrations'))");
    try {
      const executor = new MigrationExecutor(ds, qr);
      executor.transaction = "each";
      const done = await executor.executePendingMigrations();
      await ensureTransitionPartitions(qr);
      return done.map((m) => m.name);
    } finally {
      await qr.query("SELECT pg_advisory_unlock(hashtext('smi_gateway_migrations'))");
    }
  } finally {
    await qr.release();
  }
}

/**
 * Creates the partitions of `service_flag_transition` for the sequence's current value and `ahead`
 * more (moving any rows that went to the default partition), when the partitioning migration has
 * run. Returns how many it created. See migrations/1764300000000-PartitionTransitions.ts.
 */
export async function ensureTransitionPartitions(
  db: Pick<QueryRunner, "query"> | Pick<DataSource, "query">,
  ahead = 2,
): Promise<number> {
  // Two statements: a call of a function that does not exist fails at parse time, even in a CASE.
  const found: { fn: string | null }[] = await db.query(
    "SELECT to_regprocedure('smi_ensure_transition_partitions(integer)')::text AS fn",
  );
  if (!found[0]?.fn) return 0;
  const rows: { created: number }[] = await db.query(
    "SELECT smi_ensure_transition_partitions($1) AS created",
    [ahead],
  );
  return rows[0]?.created ?? 0;
}

/** Are all known migrations applied? (readiness) */
export async function migrationsApplied(ds: DataSource): Promise<boolean> {
  return !(await ds.showMigrations());
}

export type { QueryRunner };
