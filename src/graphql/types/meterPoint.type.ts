import { Authorized, Field, ID, ObjectType } from "type-graphql";
import { Permission } from "../auth";
import { type DeviceRow } from "../../persistence/inventoryStore";
import { DccServiceFlag, Fuel } from "./enums";

/**
 * The GraphQL meter point. Resolvers return plain `MeterPointView` objects; `asOf` travels with the
 * object so that its fields answer for that instant.
 *
 * Access (SPEC §5): `mpxn`, `fuel`, `serviceFlag` and `serviceFlagEffectiveAt` are the comparison-site
 * view, open to every role. Every other field needs METER_POINT_DETAIL, decided from the view's
 * supplier and network operator; those fields are nullable so that a FORBIDDEN one leaves the rest
 * of the meter point intact.
 */
@ObjectType("MeterPoint")
export class MeterPoint {
  @Field(() => ID) mpxn!: string;
  @Field(() => Fuel) fuel!: Fuel;
  @Authorized(Permission.METER_POINT_DETAIL)
  @Field(() => String, { nullable: true, description: "MPAS id (electricity) or transporter (gas)" })
  networkOperator!: string | null;
  @Authorized(Permission.METER_POINT_DETAIL)
  @Field(() => String, { nullable: true })
  supplier!: string | null;
  @Field(() => DccServiceFlag, { nullable: true }) serviceFlag!: DccServiceFlag | null;
  @Field(() => Date, { nullable: true }) serviceFlagEffectiveAt!: Date | null;
}

export interface MeterPointView {
  readonly mpxn: string;
  readonly fuel: Fuel;
  readonly networkOperator: string | null;
  readonly supplier: string | null;
  readonly serviceFlag: DccServiceFlag | null;
  readonly serviceFlagEffectiveAt: Date | null;
  /** The instant the view answers for; null for now. */
  readonly asOf: Date | null;
  /** At `asOf`: the smart meters associated then, with their statuses then. */
  readonly devicesAt?: readonly DeviceRow[];
}
