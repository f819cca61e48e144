import { type TransitionFilterQuery } from "../../persistence/readStore";
import { LIMITS, checkListSize, mpxnArg } from "../args";
import { type TransitionFilter } from "../types/inputs";

/** A client's transition filter as a query (tenant scope is added by the caller, never taken from here). */
export function transitionFilterQuery(filter: TransitionFilter | null | undefined): TransitionFilterQuery {
  if (filter?.mpxns) checkListSize("filter.mpxns", filter.mpxns.length, LIMITS.maxMpxns);
  return {
    networkOperator: filter?.networkOperator ?? undefined,
    fuel: filter?.fuel ?? undefined,
    mpxns: filter?.mpxns ? filter.mpxns.map(mpxnArg) : undefined,
    to: filter?.to ?? undefined,
    from: filter?.from ?? undefined,
  };
}
