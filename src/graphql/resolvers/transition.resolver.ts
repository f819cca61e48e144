import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { type GraphQLContext } from "../context";
import { MeterPoint, type MeterPointView } from "../types/meterPoint.type";
import { ServiceFlagTransition } from "../types/transition.type";
import { type TransitionView, meterPointView } from "../views";

@Resolver(() => ServiceFlagTransition)
export class TransitionResolver {
  @FieldResolver(() => MeterPoint, { description: "The meter point as it is now" })
  async meterPoint(@Root() t: TransitionView, @Ctx() ctx: GraphQLContext): Promise<MeterPointView> {
    const row = await ctx.loaders.meterPoint.load(t.mpxn);
    if (!row) throw new Error(`transition ${t.sequence} names meter point ${t.mpxn}, which is missing`);
    return meterPointView(row);
  }
}
