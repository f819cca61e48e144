import { type App } from "../app";
import { type TransitionFilterQuery } from "../persistence/readStore";
import { Role, type Viewer } from "./context";

/**
 * Who is asking, from the `Authorization` value (HTTP header, or `connection_init` payload over
 * WebSocket). Until API keys land every request is served as the DCC operator.
 * (Replaced by key look-up in the access-control work; the signature stays.)
 */
export async function resolveViewer(_app: App, _authorization: string | undefined): Promise<Viewer> {
  return { role: Role.DCC, party: null, keyId: null };
}

/**
 * The tenant scope of a viewer over transitions, added on top of any client filter (SPEC §5): a
 * network operator sees its network, a supplier its meter points, DCC everything; null means the
 * role may not read transitions at all.
 */
export function transitionScopeOf(viewer: Viewer): Pick<TransitionFilterQuery, "scopeNetworkOperator" | "scopeSupplier"> | null {
  switch (viewer.role) {
    case Role.DCC:
      return {};
    case Role.NETWORK_OPERATOR:
      return { scopeNetworkOperator: viewer.party ?? "\u0000no-party" };
    case Role.SUPPLIER:
      return { scopeSupplier: viewer.party ?? "\u0000no-party" };
    case Role.COMPARISON_SITE:
      return null;
  }
}
