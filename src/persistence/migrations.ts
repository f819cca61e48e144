import { Inventory1764000000000 } from "../../migrations/1764000000000-Inventory";
import { ApiKeys1764100000000 } from "../../migrations/1764100000000-ApiKeys";
import { FlowFiles1764200000000 } from "../../migrations/1764200000000-FlowFiles";
import { PartitionTransitions1764300000000 } from "../../migrations/1764300000000-PartitionTransitions";
import { IngestTuning1764400000000 } from "../../migrations/1764400000000-IngestTuning";
import { LeanerHistoryKeys1764500000000 } from "../../migrations/1764500000000-LeanerHistoryKeys";

/** Every migration, in order. Registered as classes (TypeORM 1.x), never globbed. */
export const MIGRATIONS = [
  Inventory1764000000000,
  ApiKeys1764100000000,
  FlowFiles1764200000000,
  PartitionTransitions1764300000000,
  IngestTuning1764400000000,
  LeanerHistoryKeys1764500000000,
];
