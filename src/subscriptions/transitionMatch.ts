import { type StoredTransition } from "../persistence/inventoryStore";
import { type TransitionFilterQuery } from "../persistence/readStore";

/**
 * The in-memory twin of `transitionWhere` (src/persistence/readStore.ts): does a transition pass a
 * subscription's filter and tenant scope? Replay reads the table with `transitionWhere`, the live
 * fan-out tests rows with this; the two must agree (test/subscriptions covers both paths).
 */
export function matchesTransition(q: TransitionFilterQuery, t: StoredTransition): boolean {
  if (q.networkOperator !== undefined && t.networkOperator !== q.networkOperator) return false;
  if (q.scopeNetworkOperator !== undefined && t.networkOperator !== q.scopeNetworkOperator) return false;
  if (q.scopeSupplier !== undefined && t.supplier !== q.scopeSupplier) return false;
  if (q.fuel !== undefined && t.fuel !== q.fuel) return false;
  if (q.mpxns !== undefined && !q.mpxns.includes(t.mpxn)) return false;
  if (q.to !== undefined && !q.to.includes(t.to)) return false;
  if (q.from !== undefined && !q.from.includes(t.from)) return false;
  return true;
}

/**
 * The narrowest index key a query is confined to, so the fan-out touches only subscriptions that
 * can match: per MPxN when it lists MPxNs, else per network, else per supplier, else everyone.
 * The key only narrows the candidates; `matchesTransition` still decides.
 */
export type MatchKey =
  | { kind: "mpxn"; values: readonly string[] }
  | { kind: "network"; value: string }
  | { kind: "supplier"; value: string }
  | { kind: "all" };

export function matchKeyOf(q: TransitionFilterQuery): MatchKey {
  if (q.mpxns !== undefined) return { kind: "mpxn", values: [...new Set(q.mpxns)] };
  const network = q.scopeNetworkOperator ?? q.networkOperator;
  if (network !== undefined) return { kind: "network", value: network };
  if (q.scopeSupplier !== undefined) return { kind: "supplier", value: q.scopeSupplier };
  return { kind: "all" };
}
