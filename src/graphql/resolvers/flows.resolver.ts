import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { type Fuel } from "../../domain/identifiers";
import { FlowKind, fuelForFlow } from "../../flows/flowRecord";
import { type FlowFileRow } from "../../persistence/flowStore";
import { checkFirst } from "../args";
import { type GraphQLContext, Role } from "../context";
import { forbidden } from "../errors";
import { FlowFile, PendingFlowChanges } from "../types/flows.type";

/** Registration update files are the DCC operator's business only (SPEC §5, §7). */
function requireDcc(ctx: GraphQLContext, field: string): void {
  if (ctx.viewer.role !== Role.DCC)
    throw forbidden(`expected the DCC role to read ${field}, got ${ctx.viewer.role}`);
}

const toFlowFile = (f: FlowFileRow): FlowFile => ({
  recipient: f.networkOperator,
  flow: f.flow,
  fuel: fuelForFlow(f.flow) as Fuel,
  fileId: f.fileId,
  fileName: f.fileName,
  recordCount: f.recordCount,
  preparedAt: f.preparedAt,
  sentAt: f.sentAt,
});

@Resolver()
export class FlowsResolver {
  @Query(() => [FlowFile], { description: "Registration update files produced, newest first (DCC only)" })
  async flowFiles(
    @Arg("recipient", () => String, { nullable: true }) recipient: string | null,
    @Arg("flow", () => FlowKind, { nullable: true }) flow: FlowKind | null,
    @Arg("first", () => Int, { defaultValue: 100, nullable: true }) first: number | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<FlowFile[]> {
    requireDcc(ctx, "flowFiles");
    const rows = await ctx.app.flowStore.listFiles({
      networkOperator: recipient ?? undefined,
      flow: flow ?? undefined,
      limit: checkFirst(first ?? 100),
    });
    return rows.map(toFlowFile);
  }

  @Query(() => [PendingFlowChanges], {
    description: "Flag changes waiting for the next export, per network operator (DCC only)",
  })
  async pendingFlowChanges(@Ctx() ctx: GraphQLContext): Promise<PendingFlowChanges[]> {
    requireDcc(ctx, "pendingFlowChanges");
    const { recipients } = await ctx.app.flowStore.pendingRecipients(null);
    return recipients.map((r) => ({
      recipient: r.networkOperator,
      flow: r.flow,
      fuel: fuelForFlow(r.flow) as Fuel,
      transitions: r.transitions,
      meterPoints: r.meterPoints,
    }));
  }
}
