import { Role } from "../../src/graphql/context";
import { exportFlows } from "../../src/flows/exportFlows";
import { FlowStore } from "../../src/persistence/flowStore";
import { type TestApp, scratchDirs, startTestApp } from "../support/harness";
import { Story, apply, dev, mpan, mprn } from "./flowEvents";

const FILES = `{ flowFiles { recipient flow fuel fileId fileName recordCount preparedAt sentAt } }`;
const PENDING = `{ pendingFlowChanges { recipient flow fuel transitions meterPoints } }`;

describe("flowFiles and pendingFlowChanges (GraphQL, DCC only)", () => {
  const newDir = scratchDirs("smi-gql-");
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it("shows the changes waiting per network operator, then the files produced", async () => {
    const s = new Story("gql");
    await apply(t.app, [
      ...s.meterPointWith(mpan(10, 1), dev(1), "InstalledNotCommissioned", "2026-03-02T10:00:00Z"),
      s.status(dev(1), "Commissioned", "2026-03-02T11:00:00Z"),
      ...s.meterPointWith(mpan(10, 2), dev(2), "Commissioned", "2026-03-02T10:00:00Z"),
      ...s.meterPointWith(mprn(3), dev(3), "Commissioned", "2026-03-02T10:00:00Z", "WWU"),
    ]);
    const before = await t.gql(PENDING);
    expect(before.body.errors).toBeUndefined();
    expect(before.body.data).toEqual({
      pendingFlowChanges: [
        { recipient: "EELC", flow: "D0350", fuel: "ELECTRICITY", transitions: 3, meterPoints: 2 },
        { recipient: "WWU", flow: "E46", fuel: "GAS", transitions: 1, meterPoints: 1 },
      ],
    });

    const dir = newDir();
    await exportFlows(new FlowStore(t.app.ds), { outDir: dir, maxRecords: 1, d0350GroupId: "DSF" });

    const after = await t.gql<{ flowFiles: Record<string, unknown>[] }>(FILES);
    expect(after.body.errors).toBeUndefined();
    const files = after.body.data!.flowFiles.map(({ preparedAt, sentAt, ...rest }) => {
      expect(typeof preparedAt).toBe("string");
      expect(typeof sentAt).toBe("string");
      return rest;
    });
    expect(files).toEqual(
      expect.arrayContaining([
        {
          recipient: "EELC",
          flow: "D0350",
          fuel: "ELECTRICITY",
          fileId: 1,
          fileName: "D0350_EELC_00000001.txt",
          recordCount: 1,
        },
        {
          recipient: "EELC",
          flow: "D0350",
          fuel: "ELECTRICITY",
          fileId: 2,
          fileName: "D0350_EELC_00000002.txt",
          recordCount: 1,
        },
        {
          recipient: "WWU",
          flow: "E46",
          fuel: "GAS",
          fileId: 1,
          fileName: "E46_WWU_00000001.csv",
          recordCount: 1,
        },
      ]),
    );
    expect(files).toHaveLength(3);
    expect((await t.gql(PENDING)).body.data).toEqual({ pendingFlowChanges: [] });
  });

  it.each([
    [Role.NETWORK_OPERATOR, "EELC"],
    [Role.SUPPLIER, "EDFE"],
    [Role.COMPARISON_SITE, null],
  ])("refuses %s with FORBIDDEN", async (role, party) => {
    const key = await t.createKey(role, party);
    for (const q of [FILES, PENDING]) {
      const r = await t.gql(q, {}, t.bearer(key));
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    }
  });
});
