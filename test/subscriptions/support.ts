import { type Client as WsClient, createClient } from "graphql-ws";
import { Client as PgClient } from "pg";
import WebSocket from "ws";

/** What a subscription received, as the test sees it. */
export interface Received {
  sequence: string;
  mpxn: string;
  networkOperator: string | null;
  from: string | null;
  to: string | null;
}

export const SUBSCRIBE = `
  subscription Flags($filter: TransitionFilter, $after: ID) {
    serviceFlagChanged(filter: $filter, after: $after) { sequence mpxn networkOperator from to }
  }`;

export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, "ws");

/** A real graphql-ws client (no retries: each test decides what a reconnect means). */
export function connect(
  httpUrl: string,
  key: string | null,
  extra: {
    webSocketImpl?: unknown;
    onClosed?: (code: number, reason: string) => void;
    onConnected?: () => void;
  } = {},
): WsClient {
  return createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: extra.webSocketImpl ?? WebSocket,
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    on: {
      connected: () => extra.onConnected?.(),
      closed: (e) => {
        const ev = e as { code: number; reason: string };
        extra.onClosed?.(ev.code, String(ev.reason));
      },
    },
    onNonLazyError: () => undefined,
  });
}

/** One subscription, collecting what arrives; `until` waits for a condition on it. */
export class Collector {
  readonly items: Received[] = [];
  errors: { message: string; extensions?: { code?: string } }[] | null = null;
  completed = false;
  private waiters: (() => void)[] = [];
  readonly unsubscribe: () => void;

  constructor(client: WsClient, variables: Record<string, unknown> = {}, query = SUBSCRIBE) {
    this.unsubscribe = client.subscribe<{ serviceFlagChanged: Received }>(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) this.errors = r.errors as never;
          if (r.data?.serviceFlagChanged) this.items.push(r.data.serviceFlagChanged);
          this.poke();
        },
        error: (e) => {
          this.errors = Array.isArray(e) ? (e as never) : [{ message: String((e as Error)?.message ?? e) }];
          this.completed = true;
          this.poke();
        },
        complete: () => {
          this.completed = true;
          this.poke();
        },
      },
    );
  }

  get last(): string | null {
    return this.items[this.items.length - 1]?.sequence ?? null;
  }

  private poke() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `cond` holds; rejects after `ms` with what was received (a hang guard, not a timing assertion). */
  until(cond: (c: Collector) => boolean, ms = 30000, what = "condition"): Promise<void> {
    if (cond(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `expected ${what} within ${ms} ms; got ${this.items.length} items (last ${this.last}), errors ${JSON.stringify(this.errors)}, completed ${this.completed}`,
            ),
          ),
        ms,
      );
      const check = () => {
        if (cond(this)) {
          clearTimeout(timer);
          resolve();
        } else if (this.completed) {
          clearTimeout(timer);
          reject(
            new Error(
              `expected ${what}, but the subscription ended after ${this.items.length} items with ${JSON.stringify(this.errors)}`,
            ),
          );
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
}

/** Sequences strictly increasing, as BigInts. */
export function expectStrictlyIncreasing(items: readonly { sequence: string }[]): void {
  for (let i = 1; i < items.length; i++) {
    if (!(BigInt(items[i]!.sequence) > BigInt(items[i - 1]!.sequence)))
      throw new Error(
        `expected strictly increasing sequences, got ${items[i - 1]!.sequence} then ${items[i]!.sequence} at ${i}`,
      );
  }
}

export interface RawTransition {
  mpxn: string;
  networkOperator?: string | null;
  supplier?: string | null;
  fuel?: "ELECTRICITY" | "GAS";
  from?: string | null;
  to?: string | null;
}

/**
 * Writes transitions the way every writer must: the transaction id first, then the sequences, then
 * the rows and the wake-up. `hold` keeps the transaction open until it resolves (to commit out of
 * sequence order). Returns the sequences drawn.
 */
export async function writeTransitions(
  c: PgClient,
  rows: readonly RawTransition[],
  hold?: (sequences: string[]) => Promise<void>,
): Promise<string[]> {
  await c.query("BEGIN");
  try {
    await c.query("SELECT pg_current_xact_id()");
    const r = await c.query<{ s: string }>(
      `INSERT INTO service_flag_transition (sequence, mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
              contributing_device_ids, effective_at, cause_event_id)
       SELECT nextval('service_flag_transition_sequence_seq'), u.mpxn, u.fuel, u.network_operator, u.supplier,
              u.from_flag, u.to_flag, 'ANY_COMMISSIONED', '{}', now(), 'raw-' || u.mpxn
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           WITH ORDINALITY AS u(mpxn, fuel, network_operator, supplier, from_flag, to_flag, n)
        ORDER BY u.n
       RETURNING sequence::text AS s`,
      [
        rows.map((x) => x.mpxn),
        rows.map((x) => x.fuel ?? "ELECTRICITY"),
        rows.map((x) => x.networkOperator ?? null),
        rows.map((x) => x.supplier ?? null),
        rows.map((x) => (x.from === undefined ? null : x.from)),
        rows.map((x) => (x.to === undefined ? "A" : x.to)),
      ],
    );
    const seqs = r.rows.map((x) => x.s);
    await c.query("SELECT pg_notify('smi_transition', '')");
    if (hold) await hold(seqs);
    await c.query("COMMIT");
    return seqs;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

export async function pgClient(url: string): Promise<PgClient> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  return c;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
