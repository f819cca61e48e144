import { type Config } from "../config";
import { Role } from "../domain/access";
import { type EventApplier } from "../ingest/applyEvents";
import { type FlowStore } from "../persistence/flowStore";
import { type ReadStore } from "../persistence/readStore";
import { Loaders } from "./loaders";

/** API roles (SPEC §5): defined with the other value types in the domain, re-exported for resolvers. */
export { Role };

export interface Viewer {
  readonly role: Role;
  /** Supplier id or network operator id for scoped roles; null for DCC and comparison sites. */
  readonly party: string | null;
  readonly keyId: string | null;
}

/** The long-lived services resolvers call. */
export interface AppServices {
  readonly config: Config;
  readonly readStore: ReadStore;
  /** Reads that must see the primary's latest commits (subscription payloads); see App. */
  readonly primaryReadStore?: ReadStore;
  readonly flowStore: FlowStore;
  readonly applier: EventApplier;
}

export interface GraphQLContext {
  readonly viewer: Viewer;
  readonly loaders: Loaders;
  readonly app: AppServices;
}

export function createContext(app: AppServices, viewer: Viewer): GraphQLContext {
  return { viewer, loaders: new Loaders(app.readStore), app };
}
