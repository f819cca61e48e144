import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from "type-graphql";
import { checkFirst, parseNumericCursor } from "../args";
import { type GraphQLContext } from "../context";
import { type Connection, toConnection } from "../types/connection";
import {
  Device,
  type DeviceStatusChange,
  DeviceStatusChangeConnection,
  type DeviceView,
} from "../types/device.type";
import { MeterPoint, type MeterPointView } from "../types/meterPoint.type";
import { meterPointView } from "../views";

@Resolver(() => Device)
export class DeviceResolver {
  @FieldResolver(() => [MeterPoint], { description: "Meter points the device is associated with now" })
  async meterPoints(@Root() d: DeviceView, @Ctx() ctx: GraphQLContext): Promise<MeterPointView[]> {
    const rows = await ctx.loaders.meterPointsOfDevice.load(d.deviceId);
    return rows.map((r) => meterPointView(r));
  }

  @FieldResolver(() => DeviceStatusChangeConnection, {
    description: "Every status the device has had, oldest first",
  })
  async statusHistory(
    @Root() d: DeviceView,
    @Arg("first", () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Connection<DeviceStatusChange>> {
    const limit = checkFirst(first ?? 20);
    const rows = await ctx.loaders
      .statusHistoryOf(parseNumericCursor("after", after), limit + 1)
      .load(d.deviceId);
    return toConnection(
      rows,
      limit,
      (r) => r.id,
      (r) =>
        ({
          id: r.id,
          status: r.status,
          effectiveStatus: r.effective_status,
          occurredAt: r.occurred_at,
          recordedAt: r.recorded_at,
          eventId: r.event_id,
        }) as DeviceStatusChange,
    );
  }
}
