import { Field, ID, ObjectType } from "type-graphql";
import { createConnection } from "./connection";
import { DeviceType, FlagRule, SmiDeviceStatus } from "./enums";

@ObjectType("Device")
export class Device {
  @Field(() => ID) deviceId!: string;
  @Field(() => DeviceType) deviceType!: DeviceType;
  @Field(() => SmiDeviceStatus) status!: SmiDeviceStatus;
  @Field(() => Date) statusEffectiveAt!: Date;
  @Field(() => String, { nullable: true }) smets!: string | null;
  @Field(() => String, { nullable: true }) manufacturer!: string | null;
  @Field(() => String, { nullable: true }) model!: string | null;
  @Field(() => String, { nullable: true }) firmwareVersion!: string | null;
}

export interface DeviceView {
  readonly deviceId: string;
  readonly deviceType: DeviceType;
  readonly status: SmiDeviceStatus;
  readonly statusEffectiveAt: Date;
  readonly effectiveStatus: SmiDeviceStatus | null;
  readonly smets: string | null;
  readonly manufacturer: string | null;
  readonly model: string | null;
  readonly firmwareVersion: string | null;
}

@ObjectType("DeviceStatusChange")
export class DeviceStatusChange {
  @Field(() => ID) id!: string;
  @Field(() => SmiDeviceStatus) status!: SmiDeviceStatus;
  @Field(() => SmiDeviceStatus, {
    nullable: true,
    description:
      "The status the meter contributes to its flags from (Suspended/Recovery/Recovered keep the one before)",
  })
  effectiveStatus!: SmiDeviceStatus | null;
  @Field(() => Date) occurredAt!: Date;
  @Field(() => Date) recordedAt!: Date;
  @Field(() => ID) eventId!: string;
}

export const DeviceStatusChangeConnection = createConnection("DeviceStatusChange", DeviceStatusChange);

@ObjectType("FlagExplanation")
export class FlagExplanation {
  @Field(() => FlagRule) rule!: FlagRule;
  @Field(() => [Device]) contributingDevices!: DeviceView[];
}
