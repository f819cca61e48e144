import { Arg, ID, Resolver, Root, Subscription } from "type-graphql";
import { type SubscribeResolverData } from "type-graphql";
import { type TransitionFilterQuery } from "../../persistence/readStore";
import { type TransitionFeed } from "../../subscriptions/TransitionFeed";
import { LIMITS, checkListSize, parseNumericCursor } from "../args";
import { transitionScopeOf } from "../auth";
import { type GraphQLContext } from "../context";
import { badUserInput, forbidden } from "../errors";
import { Loaders } from "../loaders";
import { type SharedExecutionContext } from "../sharedExecution";
import { TransitionFilter } from "../types/inputs";
import { ServiceFlagTransition } from "../types/transition.type";
import { type TransitionView } from "../views";
import { transitionFilterQuery } from "./transitionFilter";

/** The context of an operation over WebSocket: the HTTP context plus this process's feed. */
export interface SubscriptionContext extends GraphQLContext, Partial<SharedExecutionContext> {
  readonly feed?: TransitionFeed;
}

interface ServiceFlagChangedArgs {
  readonly filter?: TransitionFilter | null;
  readonly after?: string | null;
}

/**
 * type-graphql does not run class-validator on a subscription's arguments (they reach `subscribe`
 * as plain objects), so the bounds that `@MaxLength`/`@ArrayMaxSize` declare on TransitionFilter are
 * checked here, with the same messages as the other list bounds.
 */
function checkFilterBounds(f: TransitionFilter | null | undefined): void {
  if (!f) return;
  if (f.networkOperator && f.networkOperator.length > 100)
    throw badUserInput(
      `expected filter.networkOperator of at most 100 characters, got ${f.networkOperator.length}`,
    );
  if (f.mpxns) checkListSize("filter.mpxns", f.mpxns.length, LIMITS.maxMpxns);
  if (f.to) checkListSize("filter.to", f.to.length, 4);
  if (f.from) checkListSize("filter.from", f.from.length, 4);
}

/**
 * Opens the feed for one `serviceFlagChanged` subscription. The tenant scope comes from the viewer
 * and is added on top of the client's filter, which can only narrow it (SPEC §5, §6).
 */
function subscribeToTransitions({
  args,
  context,
}: SubscribeResolverData<unknown, ServiceFlagChangedArgs, SubscriptionContext>) {
  const feed = context.feed;
  if (!feed)
    throw badUserInput("subscriptions are served over WebSocket (graphql-transport-ws) at this path");
  const scope = transitionScopeOf(context.viewer);
  if (scope === null) throw forbidden(`the ${context.viewer.role} role cannot subscribe to flag transitions`);
  checkFilterBounds(args.filter);
  const query: TransitionFilterQuery = { ...transitionFilterQuery(args.filter), ...scope };
  const after = parseNumericCursor("after", args.after);
  // The context lives as long as the subscription; renew its loaders per transition so that a
  // nested `meterPoint` shows the meter point as it is now, and no cache grows for ever.
  // Built lazily: most operations never select `meterPoint`.
  // From the primary: a transition is delivered once committed there, and a read replica may not
  // have replayed it yet (its meter point would be missing or stale).
  const readStore = context.app.primaryReadStore ?? context.app.readStore;
  let loaders: Loaders | undefined;
  Object.defineProperty(context, "loaders", {
    get: () => (loaders ??= new Loaders(readStore)),
    configurable: true,
  });
  return feed.subscribe(query, after === null ? null : BigInt(after), () => {
    loaders = undefined;
  });
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => ServiceFlagTransition, {
    subscribe: subscribeToTransitions,
    description:
      "Every flag transition the viewer may see, in strictly increasing sequence. With `after` (a sequence), first replays every matching transition after it, then continues live, with no gap and no duplicate. Resume after a disconnect with `after` = the last sequence received.",
  })
  serviceFlagChanged(
    @Root() transition: TransitionView,
    @Arg("filter", () => TransitionFilter, { nullable: true }) _filter: TransitionFilter | null,
    @Arg("after", () => ID, { nullable: true }) _after: string | null,
  ): TransitionView {
    return transition;
  }
}
