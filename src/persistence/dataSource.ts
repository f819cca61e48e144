import "reflect-metadata";
import { DataSource, type Logger, type QueryRunner } from "typeorm";
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

/** Applies pending migrations, serialised across instances by TypeORM's migration lock. */
export async function migrate(ds: DataSource): Promise<string[]> {
  const done = await ds.runMigrations({ transaction: "each" });
  return done.map((m) => m.name);
}

/** Are all known migrations applied? (readiness) */
export async function migrationsApplied(ds: DataSource): Promise<boolean> {
  return !(await ds.showMigrations());
}

export type { QueryRunner };
