import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { Fuel } from "../../domain/identifiers";
import { type DccServiceFlag } from "../../domain/serviceFlag";
import {
  LIMITS,
  checkFirst,
  checkListSize,
  decodeMeterPointCursor,
  deviceIdArg,
  encodeMeterPointCursor,
  mpxnArg,
  mpxnArgOrError,
  parseNumericCursor,
} from "../args";
import { Permission, canReadMeterPoint, meterPointScopeOf, transitionScopeOf } from "../auth";
import { type GraphQLContext, Role } from "../context";
import { forbidden } from "../errors";
import { type Connection, toConnection } from "../types/connection";
import { Device, type DeviceView } from "../types/device.type";
import { MeterPointFilter, TransitionFilter } from "../types/inputs";
import { MeterPoint, type MeterPointView } from "../types/meterPoint.type";
import { ServiceFlagCount, ServiceFlagTransitionConnection } from "../types/transition.type";
import { createConnection } from "../types/connection";
import { type TransitionView, deviceView, meterPointView, transitionView } from "../views";
import { transitionFilterQuery } from "./transitionFilter";

export const MeterPointConnection = createConnection("MeterPoint", MeterPoint);

@Resolver()
export class QueryResolver {
  @Query(() => MeterPoint, {
    nullable: true,
    description: "Null when unknown, or not yet registered at asOf",
  })
  async meterPoint(
    @Arg("mpxn", () => ID) mpxnRaw: string,
    @Arg("asOf", () => Date, { nullable: true }) asOf: Date | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<MeterPointView | null> {
    const mpxn = mpxnArg(mpxnRaw);
    const row = await ctx.loaders.meterPoint.load(mpxn);
    if (!row) return null;
    if (!asOf) return meterPointView(row);
    // A past flag is history, outside the comparison-site view of a meter point.
    if (!canReadMeterPoint(ctx.viewer, { supplier: row.supplier, networkOperator: row.network_operator })) {
      throw forbidden(
        "meterPoint(asOf) is outside your view of this meter point: omit asOf for its current flag",
      );
    }
    if (row.registered_at > asOf) return null;
    const flagAt = await ctx.loaders.flagAt.load({ mpxn, at: asOf });
    return meterPointView(row, asOf, flagAt);
  }

  @Query(() => [MeterPoint], {
    nullable: "items",
    description: `In input order, null for each unknown MPxN; at most ${LIMITS.maxMpxns}`,
  })
  async meterPoints(
    @Arg("mpxns", () => [ID]) mpxns: string[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<(MeterPointView | null | Error)[]> {
    checkListSize("mpxns", mpxns.length, LIMITS.maxMpxns);
    const parsed = mpxns.map(mpxnArgOrError);
    const valid = parsed.filter((p): p is string => typeof p === "string");
    const rows = await ctx.loaders.meterPoint.loadMany(valid);
    const byMpxn = new Map<string, MeterPointView>();
    for (const r of rows) if (r && !(r instanceof Error)) byMpxn.set(r.mpxn, meterPointView(r));
    return parsed.map((p) => (typeof p === "string" ? (byMpxn.get(p) ?? null) : p));
  }

  @Authorized(Permission.SCOPED_READ)
  @Query(() => MeterPointConnection, {
    description: "Meter points in the viewer's scope (supplier: supplied now; network operator: its network)",
  })
  async meterPointsConnection(
    @Arg("filter", () => MeterPointFilter, { nullable: true }) filter: MeterPointFilter | null,
    @Arg("first", () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<MeterPointView>> {
    const limit = checkFirst(first ?? 50);
    const scope = meterPointScopeOf(ctx.viewer);
    if (!scope) throw forbidden("meterPointsConnection is outside your role's view");
    const rows = await ctx.app.readStore.meterPointPage(
      {
        ...scope,
        networkOperator: filter?.networkOperator ?? undefined,
        fuel: filter?.fuel ?? undefined,
        supplier: filter?.supplier ?? undefined,
        serviceFlags: filter?.serviceFlag ?? undefined,
      },
      decodeMeterPointCursor(after),
      limit + 1,
    );
    for (const r of rows) ctx.loaders.meterPoint.prime(r.mpxn, r);
    return toConnection(
      rows,
      limit,
      (r) => encodeMeterPointCursor(r.mpxn),
      (r) => meterPointView(r),
    );
  }

  @Authorized(Permission.SCOPED_READ)
  @Query(() => Device, {
    nullable: true,
    description:
      "DCC: any device (null when unknown). Suppliers and network operators: a device associated now with a meter point in their scope",
  })
  async device(
    @Arg("deviceId", () => ID) deviceIdRaw: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeviceView | null> {
    const deviceId = deviceIdArg(deviceIdRaw);
    if (ctx.viewer.role === Role.DCC) {
      const row = await ctx.loaders.device.load(deviceId);
      return row ? deviceView(row) : null;
    }
    // Scoped roles: one batched look-up of the device's meter points decides. Unknown and
    // out-of-scope devices give the same answer, so that device ids cannot be probed.
    const [row, meterPoints] = await Promise.all([
      ctx.loaders.device.load(deviceId),
      ctx.loaders.meterPointsOfDevice.load(deviceId),
    ]);
    const inScope = meterPoints.some((mp) =>
      canReadMeterPoint(ctx.viewer, { supplier: mp.supplier, networkOperator: mp.network_operator }),
    );
    if (!row || !inScope) {
      throw forbidden("device is outside your view: it is not associated with a meter point in your scope");
    }
    return deviceView(row);
  }

  @Authorized(Permission.SCOPED_READ)
  @Query(() => ServiceFlagTransitionConnection, {
    description:
      "The transition feed, ascending by sequence, in the viewer's scope (supplier: transitions recorded while it supplied the meter point; network operator: its network)",
  })
  async serviceFlagTransitions(
    @Arg("filter", () => TransitionFilter, { nullable: true }) filter: TransitionFilter | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("first", () => Int, { defaultValue: 100, nullable: true }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<TransitionView>> {
    const limit = checkFirst(first ?? 100);
    const scope = transitionScopeOf(ctx.viewer);
    if (!scope) throw forbidden("serviceFlagTransitions is outside your role's view");
    const rows = await ctx.app.readStore.transitionPage(
      { ...transitionFilterQuery(filter), ...scope },
      parseNumericCursor("after", after),
      limit + 1,
    );
    return toConnection(rows, limit, (r) => String(r.sequence), transitionView);
  }

  @Authorized(Permission.SCOPED_READ)
  @Query(() => [ServiceFlagCount], {
    description: "One row per flag, null included, over the viewer's meter points",
  })
  async serviceFlagCounts(
    @Arg("networkOperator", () => String, { nullable: true }) networkOperator: string | null,
    @Arg("fuel", () => Fuel, { nullable: true }) fuel: Fuel | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<{ serviceFlag: DccServiceFlag | null; count: number }[]> {
    const scope = meterPointScopeOf(ctx.viewer);
    if (!scope) throw forbidden("serviceFlagCounts is outside your role's view");
    const rows = await ctx.app.readStore.flagCounts(networkOperator ?? undefined, fuel ?? undefined, scope);
    return rows.map((r) => ({ serviceFlag: r.flag as DccServiceFlag | null, count: r.count }));
  }
}
