import { TRANSITION_COLUMNS, type TransitionRow, toStoredTransition } from "./inventoryStore";
import { type StoredTransition } from "./inventoryStore";
import { type TransitionFilterQuery, transitionWhere } from "./readStore";

/** Runs one parameterised statement and returns its rows (a `pg` Client or a TypeORM DataSource). */
export type RowsQuery = (sql: string, params: unknown[]) => Promise<TransitionRow[]>;

/**
 * The subscription feed's read: matching transitions with after < sequence ≤ through, ascending,
 * at most `limit`. `through` is a settled horizon, so the page is final (src/subscriptions).
 */
export async function readTransitionsThrough(
  run: RowsQuery,
  q: TransitionFilterQuery,
  after: bigint,
  through: bigint,
  limit: number,
): Promise<StoredTransition[]> {
  const { sql, params } = transitionWhere(q, after.toString());
  params.push(through.toString(), limit);
  const rows = await run(
    `SELECT ${TRANSITION_COLUMNS} FROM service_flag_transition
      WHERE ${sql} AND sequence <= $${params.length - 1}::bigint
      ORDER BY sequence LIMIT $${params.length}`,
    params,
  );
  return rows.map(toStoredTransition);
}
