import { Inventory1764000000000 } from "../../migrations/1764000000000-Inventory";
import { FlowFiles1764200000000 } from "../../migrations/1764200000000-FlowFiles";

/** Every migration, in order. Registered as classes (TypeORM 1.x), never globbed. */
export const MIGRATIONS = [Inventory1764000000000, FlowFiles1764200000000];
