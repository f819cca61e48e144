import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
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
import { type GraphQLContext } from "../context";
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

  @Query(() => MeterPointConnection)
  async meterPointsConnection(
    @Arg("filter", () => MeterPointFilter, { nullable: true }) filter: MeterPointFilter | null,
    @Arg("first", () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<MeterPointView>> {
    const limit = checkFirst(first ?? 50);
    const rows = await ctx.app.readStore.meterPointPage(
      {
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

  @Query(() => Device, { nullable: true })
  async device(
    @Arg("deviceId", () => ID) deviceIdRaw: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeviceView | null> {
    const row = await ctx.loaders.device.load(deviceIdArg(deviceIdRaw));
    return row ? deviceView(row) : null;
  }

  @Query(() => ServiceFlagTransitionConnection, { description: "The transition feed, ascending by sequence" })
  async serviceFlagTransitions(
    @Arg("filter", () => TransitionFilter, { nullable: true }) filter: TransitionFilter | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("first", () => Int, { defaultValue: 100, nullable: true }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<TransitionView>> {
    const limit = checkFirst(first ?? 100);
    const rows = await ctx.app.readStore.transitionPage(
      transitionFilterQuery(filter),
      parseNumericCursor("after", after),
      limit + 1,
    );
    return toConnection(rows, limit, (r) => String(r.sequence), transitionView);
  }

  @Query(() => [ServiceFlagCount], { description: "One row per flag, null included" })
  async serviceFlagCounts(
    @Arg("networkOperator", () => String, { nullable: true }) networkOperator: string | null,
    @Arg("fuel", () => Fuel, { nullable: true }) fuel: Fuel | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<{ serviceFlag: DccServiceFlag | null; count: number }[]> {
    const rows = await ctx.app.readStore.flagCounts(networkOperator ?? undefined, fuel ?? undefined);
    return rows.map((r) => ({ serviceFlag: r.flag as DccServiceFlag | null, count: r.count }));
  }
}
