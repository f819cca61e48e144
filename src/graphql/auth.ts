import { type AuthChecker } from "type-graphql";
import { type App } from "../app";
import { SCOPED_ROLES } from "../domain/access";
import { API_KEY_PATTERN, type ApiKeyRecord, ApiKeyStore, hashApiKey } from "../persistence/apiKeyStore";
import { type MeterPointFilterQuery, type TransitionFilterQuery } from "../persistence/readStore";
import { type GraphQLContext, Role, type Viewer } from "./context";
import { forbidden, unauthenticated } from "./errors";

/*
 * Access control (SPEC §5). Three pieces, each checked where the data is loaded:
 *
 * 1. Authentication, `resolveViewer`: the bearer key → its role and party, once per request (HTTP)
 *    or per connection (WebSocket).
 * 2. Scope, `meterPointScopeOf` / `transitionScopeOf`: the tenant predicate that list queries add
 *    to the client's filter in SQL. The client's filter can only narrow it.
 * 3. Field rules, `authChecker`: type-graphql calls it for every field marked `@Authorized(...)`,
 *    with the object the field belongs to. A meter point carries its supplier and network operator,
 *    so the decision needs no SQL: no statement per field, no N+1.
 */

/** Cache entries (hash → record or "no such key") kept at most this many; oldest evicted first. */
const CACHE_MAX_ENTRIES = 10_000;

interface CacheEntry {
  readonly record: ApiKeyRecord | null;
  readonly expiresAt: number;
}

/**
 * The key look-up, cached briefly in process (AUTH_CACHE_TTL_MS, 5 s by default) so that the hot
 * path (one flag look-up) costs no extra statement. The price: a revoked key keeps working on an
 * instance for at most the TTL. Unknown keys are cached too, so a flood of wrong keys costs one
 * statement per distinct key per TTL; the bound keeps memory fixed whatever is sent.
 */
class KeyResolver {
  private readonly cache = new Map<string, CacheEntry>();
  constructor(
    private readonly store: ApiKeyStore,
    private readonly ttlMs: number,
  ) {}

  async find(keyHash: string): Promise<ApiKeyRecord | null> {
    const now = Date.now();
    const hit = this.cache.get(keyHash);
    if (hit && hit.expiresAt > now) return hit.record;
    const record = await this.store.findActiveByHash(keyHash);
    if (this.ttlMs > 0) {
      this.cache.delete(keyHash);
      if (this.cache.size >= CACHE_MAX_ENTRIES) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(keyHash, { record, expiresAt: now + this.ttlMs });
    }
    return record;
  }
}

const resolvers = new WeakMap<App, KeyResolver>();
function keyResolverOf(app: App): KeyResolver {
  let r = resolvers.get(app);
  if (!r) {
    r = new KeyResolver(new ApiKeyStore(app.ds), app.config.AUTH_CACHE_TTL_MS);
    resolvers.set(app, r);
  }
  return r;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Who is asking, from the `Authorization` value (HTTP header, or `connection_init` payload over
 * WebSocket). Missing, malformed, unknown and revoked keys throw UNAUTHENTICATED (HTTP 401).
 * Messages never repeat what was sent: a mistyped key is still a secret.
 */
export async function resolveViewer(app: App, authorization: string | undefined): Promise<Viewer> {
  if (authorization === undefined || authorization.trim() === "") {
    throw unauthenticated("expected an Authorization header 'Bearer <api key>', got none");
  }
  const m = BEARER.exec(authorization);
  if (!m) throw unauthenticated("expected an Authorization header of the form 'Bearer <api key>'");
  const key = m[1]!;
  if (!API_KEY_PATTERN.test(key)) {
    throw unauthenticated("expected an API key of the form smi_ followed by 43 characters");
  }
  const record = await keyResolverOf(app).find(hashApiKey(key));
  if (!record) throw unauthenticated("unknown or revoked API key");
  // The database refuses a scoped key without a party; refuse it here too rather than widen.
  if (SCOPED_ROLES.has(record.role) && !record.party) throw unauthenticated("unknown or revoked API key");
  return { role: record.role, party: record.party, keyId: record.id };
}

/** The parts of a meter point that decide who may read all of it. */
export interface MeterPointOwners {
  readonly supplier: string | null;
  readonly networkOperator: string | null;
}

/**
 * May the viewer read everything of this meter point? DCC always; a supplier when it supplies it
 * now; a network operator when it is on its network. Everyone else gets the comparison-site view
 * (mpxn, fuel, serviceFlag, serviceFlagEffectiveAt). A null party or owner never matches.
 */
export function canReadMeterPoint(viewer: Viewer, mp: MeterPointOwners): boolean {
  switch (viewer.role) {
    case Role.DCC:
      return true;
    case Role.SUPPLIER:
      return viewer.party !== null && mp.supplier === viewer.party;
    case Role.NETWORK_OPERATOR:
      return viewer.party !== null && mp.networkOperator === viewer.party;
    case Role.COMPARISON_SITE:
      return false;
  }
}

const NO_PARTY = "\u0000no-party"; // matches no row: a scoped viewer without a party sees nothing

/** The tenant predicate a viewer's reads carry, whatever the client's filter says. */
export type TenantScope = Pick<
  MeterPointFilterQuery & TransitionFilterQuery,
  "scopeNetworkOperator" | "scopeSupplier"
>;

/**
 * The tenant scope of a viewer over meter points and over transitions (SPEC §5), added on top of
 * any client filter: a network operator sees its network, a supplier the meter points it supplies,
 * DCC everything; null means the role may not list them at all.
 */
export function tenantScopeOf(viewer: Viewer): TenantScope | null {
  switch (viewer.role) {
    case Role.DCC:
      return {};
    case Role.NETWORK_OPERATOR:
      return { scopeNetworkOperator: viewer.party ?? NO_PARTY };
    case Role.SUPPLIER:
      return { scopeSupplier: viewer.party ?? NO_PARTY };
    case Role.COMPARISON_SITE:
      return null;
  }
}
export const meterPointScopeOf = tenantScopeOf;
export const transitionScopeOf = tenantScopeOf;

/** What an `@Authorized(...)` field requires. */
export const Permission = {
  /** The DCC operator only (writes). */
  DCC: "DCC",
  /** A role with meter points of its own (not a comparison site); the resolver applies the scope. */
  SCOPED_READ: "SCOPED_READ",
  /** Everything of the meter point this field belongs to (the root is a MeterPointView). */
  METER_POINT_DETAIL: "METER_POINT_DETAIL",
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

/**
 * type-graphql's field check. It throws FORBIDDEN itself (rather than returning false) so that the
 * message names the field and the reason; the error stays on that field and the rest of the
 * operation's data is intact.
 */
export const authChecker: AuthChecker<GraphQLContext, Permission> = ({ root, context, info }, required) => {
  const viewer = context.viewer;
  const field = `${info.parentType.name}.${info.fieldName}`;
  for (const p of required) {
    switch (p) {
      case Permission.DCC:
        if (viewer.role !== Role.DCC) throw forbidden(`${field} is for the DCC role only`);
        break;
      case Permission.SCOPED_READ:
        if (viewer.role === Role.COMPARISON_SITE) {
          throw forbidden(
            `${field} is outside the comparison-site view (mpxn, fuel, serviceFlag, serviceFlagEffectiveAt)`,
          );
        }
        break;
      case Permission.METER_POINT_DETAIL:
        if (!canReadMeterPoint(viewer, root as MeterPointOwners)) {
          throw forbidden(
            viewer.role === Role.COMPARISON_SITE
              ? `${field} is outside the comparison-site view (mpxn, fuel, serviceFlag, serviceFlagEffectiveAt)`
              : `${field} is outside your view: the meter point is not ${viewer.role === Role.SUPPLIER ? "supplied by" : "on the network of"} ${viewer.party ?? "your party"}`,
          );
        }
        break;
    }
  }
  return true;
};
