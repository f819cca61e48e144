import { Arg, Authorized, Ctx, FieldResolver, Int, Resolver, Root } from "type-graphql";
import { type DeviceType, type SmiDeviceStatus } from "../../domain/device";
import { deriveServiceFlag } from "../../domain/serviceFlag";
import { type DeviceRow } from "../../persistence/inventoryStore";
import { checkFirst, parseNumericCursor } from "../args";
import { Permission } from "../auth";
import { type GraphQLContext } from "../context";
import { type Connection, toConnection } from "../types/connection";
import { Device, type DeviceView, FlagExplanation } from "../types/device.type";
import { MeterPoint, type MeterPointView } from "../types/meterPoint.type";
import { ServiceFlagTransitionConnection } from "../types/transition.type";
import { type TransitionView, deviceView, transitionView } from "../views";

/** The devices that answer for a meter point: now, or at its `asOf`. */
async function currentOrPastDevices(
  mp: MeterPointView,
  ctx: GraphQLContext,
  historic: boolean,
): Promise<DeviceRow[]> {
  if (mp.asOf) return ctx.loaders.devicesAt.load({ mpxn: mp.mpxn, at: mp.asOf });
  return ctx.loaders.devicesOfMeterPoint(historic).load(mp.mpxn);
}

@Resolver(() => MeterPoint)
export class MeterPointResolver {
  @Authorized(Permission.METER_POINT_DETAIL)
  @FieldResolver(() => FlagExplanation, {
    nullable: true,
    description: "Which MP077 rule row holds and which meters contribute (at asOf when given)",
  })
  async flagExplanation(@Root() mp: MeterPointView, @Ctx() ctx: GraphQLContext): Promise<FlagExplanation> {
    const rows = await currentOrPastDevices(mp, ctx, false);
    const views = rows.map(deviceView);
    // The same pure rule that set the flag explains it.
    const decision = deriveServiceFlag(
      views.map((d) => ({
        deviceId: d.deviceId,
        deviceType: d.deviceType as DeviceType,
        effectiveStatus: d.effectiveStatus as SmiDeviceStatus | null,
      })),
      mp.serviceFlag !== null,
      ctx.app.config.WHITELISTED_POLICY,
    );
    const contributing = new Set(decision.contributingDeviceIds);
    return { rule: decision.rule, contributingDevices: views.filter((d) => contributing.has(d.deviceId)) };
  }

  @Authorized(Permission.METER_POINT_DETAIL)
  @FieldResolver(() => [Device], {
    nullable: true,
    description: "Associated devices (now, or at asOf); with includeHistoric, every device ever associated",
  })
  async devices(
    @Root() mp: MeterPointView,
    @Arg("includeHistoric", () => Boolean, { defaultValue: false, nullable: true })
    includeHistoric: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeviceView[]> {
    return (await currentOrPastDevices(mp, ctx, includeHistoric ?? false)).map(deviceView);
  }

  @Authorized(Permission.METER_POINT_DETAIL)
  @FieldResolver(() => ServiceFlagTransitionConnection, {
    nullable: true,
    description: "Transitions of this meter point, oldest first",
  })
  async flagHistory(
    @Root() mp: MeterPointView,
    @Arg("first", () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<TransitionView>> {
    const limit = checkFirst(first ?? 20);
    const rows = await ctx.loaders
      .transitionsOf(parseNumericCursor("after", after), limit + 1, mp.asOf)
      .load(mp.mpxn);
    return toConnection(rows, limit, (r) => String(r.sequence), transitionView);
  }
}
