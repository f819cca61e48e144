import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { LIMITS, checkListSize } from "../args";
import { Permission } from "../auth";
import { type GraphQLContext } from "../context";
import { ApplyEventsResult, EventInput } from "../types/inputs";

@Resolver()
export class MutationResolver {
  @Authorized(Permission.DCC)
  @Mutation(() => ApplyEventsResult, {
    description: `Applies SMI and registration events in order, in one transaction (at most ${LIMITS.maxEvents}); per-event results`,
  })
  async applyEvents(
    @Arg("events", () => [EventInput]) events: EventInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<ApplyEventsResult> {
    checkListSize("events", events.length, LIMITS.maxEvents);
    // EventInput's enums already carry the NDJSON spellings: the domain's one validator takes them as they are.
    const raws = events.map((e) => ({ ...e }));
    const outcome = await ctx.app.applier.applyRaw(raws);
    return {
      applied: outcome.applied,
      duplicates: outcome.duplicates,
      rejected: outcome.rejected,
      transitions: outcome.transitions as ApplyEventsResult["transitions"],
    };
  }
}
