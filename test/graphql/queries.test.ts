import { syntheticMpan } from "../../src/ingest/synthetic";
import { applyEvents } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

const X = syntheticMpan(12, 1); // LOND
const Y = syntheticMpan(12, 2); // LOND
const Z = syntheticMpan(20, 3); // SOUT
const GAS = "9876543210";
const E1 = "AA-00-00-00-00-00-00-01";
const E2 = "AA-00-00-00-00-00-00-02";
const G1 = "AA-00-00-00-00-00-00-03";
const at = (h: number) => new Date(Date.parse("2026-01-01T00:00:00Z") + h * 3600_000).toISOString();

describe("queries", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    const r = await applyEvents(t, [
      { eventId: "q1", occurredAt: at(0), type: "MeterPointRegistered", mpxn: X, supplier: "EDFE" },
      { eventId: "q2", occurredAt: at(0), type: "MeterPointRegistered", mpxn: Y, supplier: "OVOE" },
      { eventId: "q3", occurredAt: at(0), type: "MeterPointRegistered", mpxn: Z, supplier: "EDFE" },
      {
        eventId: "q4",
        occurredAt: at(0),
        type: "MeterPointRegistered",
        mpxn: GAS,
        supplier: "BGAS",
        networkOperator: "NGN",
      },
      {
        eventId: "q5",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: E1,
        deviceType: "ESME",
        model: "X1",
      },
      {
        eventId: "q6",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: E2,
        deviceType: "ESME",
        model: "X1",
      },
      {
        eventId: "q7",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: G1,
        deviceType: "GSME",
        model: "G1",
      },
      { eventId: "q8", occurredAt: at(2), type: "DeviceAssociated", deviceId: E1, mpxn: X },
      {
        eventId: "q9",
        occurredAt: at(3),
        type: "DeviceStatusChanged",
        deviceId: E1,
        status: "InstalledNotCommissioned",
      }, // X: null→I
      {
        eventId: "q10",
        occurredAt: at(5),
        type: "DeviceStatusChanged",
        deviceId: E1,
        status: "Commissioned",
      }, // X: I→A
      { eventId: "q11", occurredAt: at(6), type: "DeviceAssociated", deviceId: E2, mpxn: Y },
      {
        eventId: "q12",
        occurredAt: at(7),
        type: "DeviceStatusChanged",
        deviceId: E2,
        status: "Commissioned",
      }, // Y: null→A
      { eventId: "q13", occurredAt: at(8), type: "DeviceAssociated", deviceId: G1, mpxn: GAS },
      {
        eventId: "q14",
        occurredAt: at(9),
        type: "DeviceStatusChanged",
        deviceId: G1,
        status: "InstalledNotCommissioned",
      }, // GAS: null→I
      {
        eventId: "q15",
        occurredAt: at(10),
        type: "DeviceStatusChanged",
        deviceId: E1,
        status: "Decommissioned",
      }, // X: A→N
      { eventId: "q16", occurredAt: at(11), type: "DeviceDisassociated", deviceId: E1, mpxn: X },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.transitions).toHaveLength(5);
  });
  afterAll(async () => t.close());

  describe("meterPoint(asOf)", () => {
    const Q = `query($m: ID!, $at: DateTime) { meterPoint(mpxn: $m, asOf: $at) {
      serviceFlag serviceFlagEffectiveAt flagExplanation { rule contributingDevices { deviceId status statusEffectiveAt } }
      devices { deviceId status } flagHistory { edges { node { to } } } } }`;

    it.each([
      [at(2.5), null, null, "NEVER_ACTIVE", [], "PENDING"],
      [at(4), "I", at(3), "ANY_INSTALLED_NOT_COMMISSIONED", [E1], "INSTALLED_NOT_COMMISSIONED"],
      [at(5), "A", at(5), "ANY_COMMISSIONED", [E1], "COMMISSIONED"],
      [at(10.5), "N", at(10), "PREVIOUSLY_ACTIVE", [], "DECOMMISSIONED"],
      [at(100), "N", at(10), "PREVIOUSLY_ACTIVE", [], null],
    ])(
      "answers at %s with flag %p from history",
      async (asOf, flag, effective, rule, contributors, deviceStatus) => {
        const { body } = await t.gql<{
          meterPoint: Record<string, unknown> & {
            devices: { status: string }[];
            flagHistory: { edges: unknown[] };
          };
        }>(Q, {
          m: X,
          at: asOf,
        });
        expect(body.errors).toBeUndefined();
        const mp = body.data!.meterPoint;
        expect(mp.serviceFlag).toBe(flag);
        expect(mp.serviceFlagEffectiveAt).toBe(effective === null ? null : new Date(effective).toISOString());
        expect(mp.flagExplanation).toMatchObject({ rule });
        expect(
          (mp.flagExplanation as { contributingDevices: { deviceId: string }[] }).contributingDevices.map(
            (d) => d.deviceId,
          ),
        ).toEqual(contributors);
        expect(mp.devices.map((d) => d.status)).toEqual(deviceStatus === null ? [] : [deviceStatus]);
      },
    );

    it("limits flagHistory to what had happened by asOf", async () => {
      const { body } = await t.gql<{ meterPoint: { flagHistory: { edges: { node: { to: string } }[] } } }>(
        Q,
        { m: X, at: at(6) },
      );
      expect(body.data!.meterPoint.flagHistory.edges.map((e) => e.node.to)).toEqual(["I", "A"]);
    });

    it("is null before the meter point was registered, and for unknown meter points", async () => {
      const { body } = await t.gql(
        `{ a: meterPoint(mpxn: "${X}", asOf: "2025-12-31T23:00:00Z") { mpxn } b: meterPoint(mpxn: "${syntheticMpan(12, 99)}") { mpxn } }`,
      );
      expect(body).toEqual({ data: { a: null, b: null } });
    });
  });

  it("meterPoints answers in input order, null per unknown, an INVALID_MPXN error per bad entry", async () => {
    const unknown = syntheticMpan(12, 98);
    const { body } = await t.gql<{ meterPoints: ({ mpxn: string } | null)[] }>(
      `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn serviceFlag } }`,
      { m: [Y, unknown, "1312345678901", X, GAS] },
    );
    expect(body.data!.meterPoints).toEqual([
      { mpxn: Y, serviceFlag: "A" },
      null,
      null,
      { mpxn: X, serviceFlag: "N" },
      { mpxn: GAS, serviceFlag: "I" },
    ]);
    expect(body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [["meterPoints", 2], "INVALID_MPXN"],
    ]);
  });

  it("rejects an invalid MPxN and device id with their codes", async () => {
    const { body } = await t.gql(`{ meterPoint(mpxn: "12") { mpxn } }`);
    expect(body.errors![0]!.extensions!.code).toBe("INVALID_MPXN");
    const d = await t.gql(`{ device(deviceId: "nope") { deviceId } }`);
    expect(d.body.errors![0]!.extensions!.code).toBe("INVALID_DEVICE_ID");
  });

  it("pages meterPointsConnection with filters and Relay cursors", async () => {
    const Q = `query($f: MeterPointFilter, $first: Int, $after: String) { meterPointsConnection(filter: $f, first: $first, after: $after) {
      edges { cursor node { mpxn } } pageInfo { hasNextPage endCursor } } }`;
    type Page = {
      meterPointsConnection: {
        edges: { node: { mpxn: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const p1 = await t.gql<Page>(Q, { f: { networkOperator: "LOND" }, first: 1 });
    expect(p1.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn)).toEqual([X]);
    expect(p1.body.data!.meterPointsConnection.pageInfo.hasNextPage).toBe(true);
    const p2 = await t.gql<Page>(Q, {
      f: { networkOperator: "LOND" },
      first: 1,
      after: p1.body.data!.meterPointsConnection.pageInfo.endCursor,
    });
    expect(p2.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn)).toEqual([Y]);
    expect(p2.body.data!.meterPointsConnection.pageInfo.hasNextPage).toBe(false);

    const flagged = await t.gql<Page>(Q, { f: { serviceFlag: ["A", null] } });
    expect(flagged.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn).sort()).toEqual(
      [Y, Z].sort(),
    );
    const gas = await t.gql<Page>(Q, { f: { fuel: "GAS", supplier: "BGAS" } });
    expect(gas.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn)).toEqual([GAS]);

    const bad = await t.gql(Q, { after: "garbage" });
    expect(bad.body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    const tooMany = await t.gql(Q, { first: 501 });
    expect(tooMany.body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
  });

  it("serves the transition feed ascending, filtered, resumable from a cursor", async () => {
    const Q = `query($f: TransitionFilter, $after: String, $first: Int) { serviceFlagTransitions(filter: $f, after: $after, first: $first) {
      edges { cursor node { sequence mpxn from to networkOperator causeEventId meterPoint { mpxn serviceFlag } } } pageInfo { hasNextPage endCursor } } }`;
    type Feed = {
      serviceFlagTransitions: {
        edges: {
          cursor: string;
          node: {
            sequence: string;
            mpxn: string;
            from: string | null;
            to: string | null;
            causeEventId: string;
          };
        }[];
        pageInfo: { endCursor: string; hasNextPage: boolean };
      };
    };
    const all = await t.gql<Feed>(Q, {});
    const nodes = all.body.data!.serviceFlagTransitions.edges.map((e) => e.node);
    expect(nodes.map((n) => [n.mpxn, n.from, n.to, n.causeEventId])).toEqual([
      [X, null, "I", "q9"],
      [X, "I", "A", "q10"],
      [Y, null, "A", "q12"],
      [GAS, null, "I", "q14"],
      [X, "A", "N", "q15"],
    ]);
    const seqs = nodes.map((n) => BigInt(n.sequence));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);

    const page = await t.gql<Feed>(Q, { first: 2 });
    const rest = await t.gql<Feed>(Q, { after: page.body.data!.serviceFlagTransitions.pageInfo.endCursor });
    expect(
      [...page.body.data!.serviceFlagTransitions.edges, ...rest.body.data!.serviceFlagTransitions.edges].map(
        (e) => e.node.causeEventId,
      ),
    ).toEqual(nodes.map((n) => n.causeEventId));

    const toA = await t.gql<Feed>(Q, { f: { to: ["A"], networkOperator: "LOND" } });
    expect(toA.body.data!.serviceFlagTransitions.edges.map((e) => e.node.causeEventId)).toEqual([
      "q10",
      "q12",
    ]);
    const fromNull = await t.gql<Feed>(Q, { f: { from: [null], fuel: "GAS" } });
    expect(fromNull.body.data!.serviceFlagTransitions.edges.map((e) => e.node.causeEventId)).toEqual(["q14"]);
    const byMpxn = await t.gql<Feed>(Q, { f: { mpxns: [Y] } });
    expect(byMpxn.body.data!.serviceFlagTransitions.edges.map((e) => e.node.causeEventId)).toEqual(["q12"]);
  });

  it("counts meter points per flag, null included, optionally by network and fuel", async () => {
    const Q = `query($n: String, $f: Fuel) { serviceFlagCounts(networkOperator: $n, fuel: $f) { serviceFlag count } }`;
    const all = await t.gql<{ serviceFlagCounts: { serviceFlag: string | null; count: number }[] }>(Q, {});
    expect(all.body.data!.serviceFlagCounts).toEqual([
      { serviceFlag: "A", count: 1 },
      { serviceFlag: "I", count: 1 },
      { serviceFlag: "N", count: 1 },
      { serviceFlag: null, count: 1 },
    ]);
    const lond = await t.gql<{ serviceFlagCounts: { serviceFlag: string | null; count: number }[] }>(Q, {
      n: "LOND",
      f: "ELECTRICITY",
    });
    expect(lond.body.data!.serviceFlagCounts.filter((c) => c.count > 0)).toEqual([
      { serviceFlag: "A", count: 1 },
      { serviceFlag: "N", count: 1 },
    ]);
  });

  it("shows a device with its meter points and its status history, paged oldest first", async () => {
    const Q = `query($d: ID!, $after: String) { device(deviceId: $d) { deviceId deviceType status model meterPoints { mpxn }
      statusHistory(first: 2, after: $after) { edges { node { status effectiveStatus eventId } } pageInfo { hasNextPage endCursor } } } }`;
    type D = {
      device: {
        status: string;
        meterPoints: { mpxn: string }[];
        statusHistory: {
          edges: { node: { status: string; eventId: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      };
    };
    const p1 = await t.gql<D>(Q, { d: E1.toLowerCase() });
    expect(p1.body.data!.device).toMatchObject({ status: "DECOMMISSIONED", meterPoints: [] });
    expect(p1.body.data!.device.statusHistory.edges.map((e) => e.node.status)).toEqual([
      "PENDING",
      "INSTALLED_NOT_COMMISSIONED",
    ]);
    const p2 = await t.gql<D>(Q, { d: E1, after: p1.body.data!.device.statusHistory.pageInfo.endCursor });
    expect(p2.body.data!.device.statusHistory.edges.map((e) => [e.node.status, e.node.eventId])).toEqual([
      ["COMMISSIONED", "q10"],
      ["DECOMMISSIONED", "q15"],
    ]);
    const g = await t.gql<D>(Q, { d: G1 });
    expect(g.body.data!.device.meterPoints).toEqual([{ mpxn: GAS }]);
    const none = await t.gql(`{ device(deviceId: "AA-00-00-00-00-00-00-99") { deviceId } }`);
    expect(none.body).toEqual({ data: { device: null } });
  });
});
