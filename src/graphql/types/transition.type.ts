import { Field, ID, Int, ObjectType } from "type-graphql";
import { createConnection } from "./connection";
import { DccServiceFlag } from "./enums";

@ObjectType("ServiceFlagTransition")
export class ServiceFlagTransition {
  @Field(() => ID, { description: "Global, strictly increasing: the cursor of the feed" }) sequence!: string;
  @Field(() => ID) mpxn!: string;
  @Field(() => String, { nullable: true }) networkOperator!: string | null;
  @Field(() => DccServiceFlag, { nullable: true }) from!: DccServiceFlag | null;
  @Field(() => DccServiceFlag, { nullable: true }) to!: DccServiceFlag | null;
  @Field(() => Date, { description: "The causing event's occurredAt" }) effectiveAt!: Date;
  @Field(() => Date) recordedAt!: Date;
  @Field(() => ID) causeEventId!: string;
}

export const ServiceFlagTransitionConnection = createConnection(
  "ServiceFlagTransition",
  ServiceFlagTransition,
);

@ObjectType("ServiceFlagCount")
export class ServiceFlagCount {
  @Field(() => DccServiceFlag, { nullable: true }) serviceFlag!: DccServiceFlag | null;
  @Field(() => Int) count!: number;
}
