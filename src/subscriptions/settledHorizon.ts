/**
 * The settled horizon: up to which sequence is the transitions table final?
 *
 * Writers draw `sequence` from `service_flag_transition_sequence_seq` inside their transaction and
 * may commit in any order: a transaction holding sequence 7 can commit after one holding 8. A
 * reader that delivered 8 and moved its cursor past 7 would skip 7 for ever. So the feed delivers
 * a sequence only once it is *settled*: its transaction has committed (the row is visible) or rolled
 * back (the row will never exist). The argument, step by step:
 *
 * 1. Writers take their transaction id before drawing a sequence (`persistWorkingSet` runs
 *    `SELECT pg_current_xact_id()` first; raw writers must do the same). Transaction ids are handed
 *    out in increasing order.
 * 2. A probe reads the sequence's `last_value` (seqHigh) in one statement, and only *after* that
 *    statement has returned assigns itself a transaction id X in a second statement (and commits).
 *    Every transaction T that holds a sequence s ≤ seqHigh drew s before the probe read last_value
 *    (the sequence is not transactional: last_value is the last value handed out, committed or
 *    not), so T took its id before that, so T's id < X.
 * 3. Later, a snapshot whose xmin > X proves that every transaction with an id ≤ X has ended
 *    (xmin is the oldest transaction id still running, cluster-wide). So every T holding a sequence
 *    ≤ seqHigh has committed or rolled back: all sequences ≤ seqHigh are settled, and a statement
 *    started after that snapshot sees every committed one of them.
 *
 * Why not compare with the probe's own snapshot xmax, as a first sketch did: PostgreSQL computes a
 * snapshot's xmax as latestCompletedXid + 1, not as the next id to hand out, so a writer whose id is
 * the newest one and still running is neither in the snapshot's xip list nor below its xmax; and in
 * one statement the snapshot is taken before last_value is read. Either way a still-running writer
 * could hold a sequence ≤ seqHigh while "xmin ≥ xmax" already holds. Burning a real transaction id
 * (step 2) gives an upper bound that is certain; the probe does so only when seqHigh has moved, so
 * an idle system spends no ids.
 *
 * Assumptions, checked or documented: the sequence has CACHE 1 (a session-cached block would let a
 * later transaction use a value below seqHigh; `assertSequenceUncached` checks it at start);
 * `synchronous_commit` is not off (the probe's commit then also flushes the WAL of every nextval
 * before it, so after a crash the sequence never reissues a value ≤ a settled seqHigh). A long
 * write transaction anywhere in the cluster holds xmin back and so delays delivery (never loses).
 */

/** What the feed needs of a PostgreSQL connection (a `pg` Client). */
export interface Queryable {
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export const TRANSITION_SEQUENCE = "service_flag_transition_sequence_seq";

/** A probe: every sequence ≤ seqHigh is settled once a snapshot's xmin passes xid. */
export interface Probe {
  readonly seqHigh: bigint;
  readonly xid: bigint;
}

/** The highest sequence handed out so far (committed or not) and the current snapshot's xmin. */
export async function readSequenceHigh(c: Queryable): Promise<{ seqHigh: bigint; xmin: bigint }> {
  const { rows } = await c.query<{ seq_high: string; xmin: string }>(
    `SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS seq_high,
            pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
       FROM ${TRANSITION_SEQUENCE}`,
  );
  const r = rows[0];
  if (!r) throw new Error(`expected one row from ${TRANSITION_SEQUENCE}, got none`);
  return { seqHigh: BigInt(r.seq_high), xmin: BigInt(r.xmin) };
}

/**
 * Step 2: a transaction id newer than every writer that drew a sequence ≤ seqHigh. Must run in its
 * own statement after `readSequenceHigh` has returned (autocommit: the id's transaction ends here).
 */
export async function takeProbeXid(c: Queryable): Promise<bigint> {
  const { rows } = await c.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
  return BigInt(rows[0]!.xid);
}

/** Step 3's witness: the xmin of a fresh snapshot. */
export async function readXmin(c: Queryable): Promise<bigint> {
  const { rows } = await c.query<{ xmin: string }>(
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin",
  );
  return BigInt(rows[0]!.xmin);
}

/**
 * Pure: given pending probes (in the order taken) and a fresh xmin, the settled horizon they prove
 * (null when none is settled) and the probes still pending.
 */
export function settle(probes: readonly Probe[], xmin: bigint): { horizon: bigint | null; pending: Probe[] } {
  let horizon: bigint | null = null;
  const pending: Probe[] = [];
  for (const p of probes) {
    if (p.xid < xmin) {
      if (horizon === null || p.seqHigh > horizon) horizon = p.seqHigh;
    } else pending.push(p);
  }
  // A pending probe at or below the horizon proves nothing new.
  return { horizon, pending: horizon === null ? pending : pending.filter((p) => p.seqHigh > horizon) };
}

/** The argument above needs CACHE 1: refuse to run the feed on a cached sequence. */
export async function assertSequenceUncached(c: Queryable): Promise<void> {
  const { rows } = await c.query<{ seqcache: string }>(
    "SELECT seqcache::text FROM pg_sequence WHERE seqrelid = $1::regclass",
    [TRANSITION_SEQUENCE],
  );
  const cache = rows[0]?.seqcache;
  if (cache !== "1")
    throw new Error(
      `expected ${TRANSITION_SEQUENCE} to have CACHE 1 (the subscription feed relies on it), got ${cache ?? "no sequence"}`,
    );
}
