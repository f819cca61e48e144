import { type DataSource } from "typeorm";

/** What the read side needs of a database: one statement at a time, no transactions. */
export interface SqlReader {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors DataSource.query, whose rows are untyped
  query<T = any>(sql: string, parameters?: unknown[]): Promise<T>;
}

export interface ReadRouterOptions {
  /** True when the current read must see the primary's latest writes (a mutation reading back). */
  readonly mustUsePrimary?: () => boolean;
  /** Told when a replica could not be reached and the read went to the primary instead. */
  readonly onFallback?: (replica: number, error: unknown) => void;
}

/**
 * Sends each read statement to the next read replica, round-robin; to the primary when there are
 * no replicas or when `mustUsePrimary()` says so. Only the GraphQL read queries use it: writes
 * (`applyEvents`, bulk ingest), the subscription feed, exports and key management use the primary
 * data source directly, because they need their own writes or a settled view of the sequence.
 *
 * A replica lags the primary by its replication delay, so a read through the router may not yet see
 * a write that has just committed; that is acceptable for look-ups and pages and is why a mutation's
 * own read-back goes to the primary. A replica that cannot be reached (connection refused, server
 * shutting down or starting) is skipped for that statement and the primary answers it, so losing a
 * replica degrades capacity, not availability. Any other error (a bad statement) is the caller's.
 */
export function createReadRouter(
  primary: SqlReader,
  replicas: readonly SqlReader[],
  o: ReadRouterOptions = {},
): SqlReader {
  if (replicas.length === 0) return primary;
  let next = 0;
  return {
    async query<T>(sql: string, parameters?: unknown[]): Promise<T> {
      if (o.mustUsePrimary?.()) return primary.query<T>(sql, parameters);
      const i = next;
      next = (next + 1) % replicas.length;
      try {
        return await replicas[i]!.query<T>(sql, parameters);
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        o.onFallback?.(i, e);
        return primary.query<T>(sql, parameters);
      }
    },
  };
}

/** Connection-level failures: the server is not there (or not accepting), not the statement. */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string }; message?: string };
  const code = err.driverError?.code ?? err.code;
  if (code === undefined) {
    return /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(
      err.message ?? "",
    );
  }
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code === "ETIMEDOUT" ||
    code === "EHOSTUNREACH" ||
    code === "ENOTFOUND" ||
    code.startsWith("08") || // connection exception
    code === "57P01" || // admin_shutdown
    code === "57P02" || // crash_shutdown
    code === "57P03" // cannot_connect_now
  );
}

/** The pg pool inside a TypeORM PostgreSQL data source, for the pool-use gauges. */
export function poolOf(ds: DataSource): { totalCount: number; idleCount: number; waitingCount: number } {
  return (ds.driver as unknown as { master: { totalCount: number; idleCount: number; waitingCount: number } })
    .master;
}
