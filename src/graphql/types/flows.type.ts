import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { FlowKind } from "../../flows/flowRecord";
import { Fuel } from "./enums";

registerEnumType(FlowKind, {
  name: "FlowKind",
  description:
    "The registration update flow: D0350 (electricity, to MPAS) or E46 (gas, to the transporter/CDSP)",
});

@ObjectType("FlowFile", { description: "A registration update file prepared by export-flows (SPEC §7)" })
export class FlowFile {
  @Field(() => String, { description: "The network operator: MPAS id (D0350) or gas transporter (E46)" })
  recipient!: string;
  @Field(() => FlowKind) flow!: FlowKind;
  @Field(() => Fuel) fuel!: Fuel;
  @Field(() => Int, { description: "Sequential per recipient and flow, from 1" }) fileId!: number;
  @Field(() => String) fileName!: string;
  @Field(() => Int) recordCount!: number;
  @Field(() => Date, { description: "When the file's content was fixed (its header timestamp)" })
  preparedAt!: Date;
  @Field(() => Date, {
    nullable: true,
    description: "When it was written and recorded as sent; null while pending",
  })
  sentAt!: Date | null;
}

@ObjectType("PendingFlowChanges", { description: "Flag changes not yet taken into a file, per recipient" })
export class PendingFlowChanges {
  @Field(() => String) recipient!: string;
  @Field(() => FlowKind) flow!: FlowKind;
  @Field(() => Fuel) fuel!: Fuel;
  @Field(() => Int, { description: "Transitions recorded since the recipient's last file" })
  transitions!: number;
  @Field(() => Int, {
    description:
      "Distinct meter points among them: an upper bound on the next file's records (a flag back to its last sent value sends none)",
  })
  meterPoints!: number;
}
