import { buildDecisionVectors } from "../../src/ingest/decisionVectors";
import { applyEvents } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

describe("the decision vectors of SPEC §2.3, end to end through applyEvents and queries", () => {
  let t: TestApp;
  const vectors = buildDecisionVectors("e2e");
  const results = new Map<number, Awaited<ReturnType<typeof applyEvents>>>();

  beforeAll(async () => {
    t = await startTestApp();
    for (const v of vectors) results.set(v.id, await applyEvents(t, v.events));
  });
  afterAll(async () => t.close());

  it.each(vectors.map((v) => [v.id, v.history, v] as const))("vector %i: %s", async (id, _h, v) => {
    expect(results.get(id)!.rejected).toEqual([]);
    const mpxns = Object.keys(v.expected);
    const { body } = await t.gql<{ meterPoints: { mpxn: string; serviceFlag: string | null }[] }>(
      `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn serviceFlag } }`,
      { m: mpxns },
    );
    expect(body.errors).toBeUndefined();
    expect(Object.fromEntries(body.data!.meterPoints.map((p) => [p.mpxn, p.serviceFlag]))).toEqual(
      v.expected,
    );
  });

  it("vector 22: the CPL suspension records no transition at all", async () => {
    const v22 = vectors.find((v) => v.id === 22)!;
    const silent = new Set(v22.silentEventIds);
    expect(silent.size).toBe(25);
    const caused = results.get(22)!.transitions.filter((x) => silent.has(x.causeEventId));
    expect(caused).toEqual([]);
    // and the commissioning before it did record one per meter point
    expect(results.get(22)!.transitions.filter((x) => x.to === "A")).toHaveLength(25);
  });

  it("records exactly one transition per real flag change, in sequence order", async () => {
    const v7 = results.get(7)!.transitions;
    expect(v7.map((x) => [x.from, x.to])).toEqual([
      [null, "A"],
      ["A", "N"],
    ]);
    expect(BigInt(v7[0]!.sequence) < BigInt(v7[1]!.sequence)).toBe(true);
    expect(results.get(1)!.transitions).toEqual([]);
    expect(results.get(9)!.transitions).toEqual([]);
  });
});
