import { ArrayMaxSize, MaxLength } from "class-validator";
import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { AssociationRole, DccServiceFlag, DeviceType, EventType, Fuel, SmiDeviceStatus } from "./enums";
import { ServiceFlagTransition } from "./transition.type";

@InputType("MeterPointFilter")
export class MeterPointFilter {
  @Field(() => String, { nullable: true }) @MaxLength(100) networkOperator?: string | null;
  @Field(() => Fuel, { nullable: true }) fuel?: Fuel | null;
  @Field(() => [DccServiceFlag], {
    nullable: "itemsAndList",
    description: "Flags to match; a null entry matches the NULL flag",
  })
  @ArrayMaxSize(4)
  serviceFlag?: (DccServiceFlag | null)[] | null;
  @Field(() => String, { nullable: true }) @MaxLength(100) supplier?: string | null;
}

@InputType("TransitionFilter")
export class TransitionFilter {
  @Field(() => String, { nullable: true }) @MaxLength(100) networkOperator?: string | null;
  @Field(() => [ID], { nullable: true }) @ArrayMaxSize(1000) mpxns?: string[] | null;
  @Field(() => Fuel, { nullable: true }) fuel?: Fuel | null;
  @Field(() => [DccServiceFlag], { nullable: "itemsAndList" }) @ArrayMaxSize(4) to?:
    (DccServiceFlag | null)[] | null;
  @Field(() => [DccServiceFlag], { nullable: "itemsAndList" }) @ArrayMaxSize(4) from?:
    (DccServiceFlag | null)[] | null;
}

/** The fields of SPEC §3; which are required depends on `type` (checked by the domain's one validator). */
@InputType("EventInput")
export class EventInput {
  @Field(() => ID) eventId!: string;
  @Field(() => Date) occurredAt!: Date;
  @Field(() => EventType) type!: EventType;
  @Field(() => ID, { nullable: true }) mpxn?: string | null;
  @Field(() => ID, { nullable: true }) deviceId?: string | null;
  @Field(() => String, { nullable: true }) supplier?: string | null;
  @Field(() => String, { nullable: true }) networkOperator?: string | null;
  @Field(() => DeviceType, { nullable: true }) deviceType?: DeviceType | null;
  @Field(() => String, { nullable: true }) smets?: string | null;
  @Field(() => String, { nullable: true }) manufacturer?: string | null;
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => String, { nullable: true }) firmwareVersion?: string | null;
  @Field(() => SmiDeviceStatus, { nullable: true }) status?: SmiDeviceStatus | null;
  @Field(() => AssociationRole, { nullable: true }) role?: AssociationRole | null;
}

@ObjectType("RejectedEvent")
export class RejectedEvent {
  @Field(() => ID) eventId!: string;
  @Field(() => Int, { description: "Position of the event in the batch (0-based)" }) index!: number;
  @Field() code!: string;
  @Field() message!: string;
}

@ObjectType("ApplyEventsResult")
export class ApplyEventsResult {
  @Field(() => Int) applied!: number;
  @Field(() => Int) duplicates!: number;
  @Field(() => [RejectedEvent]) rejected!: RejectedEvent[];
  @Field(() => [ServiceFlagTransition], { description: "Those this batch caused, in sequence order" })
  transitions!: ServiceFlagTransition[];
}
