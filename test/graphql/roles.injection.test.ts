import { Role } from "../../src/domain/access";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { APPLY_EVENTS, applyEvents, toEventInput } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

/**
 * SQL-injection strings in every String/ID argument: no extra rows, no 500, no internal error,
 * whatever the role. Every statement is parameterised; these tests keep it so.
 */
const A = syntheticMpan(13, 1); // MANW, EDFE
const B = syntheticMpan(10, 2); // EELC, OVOE
const D1 = "AA-00-00-00-00-00-00-01";
const INJECTIONS = [
  "' OR '1'='1",
  `${A}' OR 1=1 --`,
  "'; DROP TABLE meter_point; --",
  "\\'; SELECT pg_sleep(0); --",
  "1) OR (1=1",
  "%",
  "_",
  "$1",
  "EDFE' OR supplier IS NOT NULL --",
];

type Body = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};
const codes = (b: Body) => (b.errors ?? []).map((e) => e.extensions?.code);

describe("SQL injection in every String/ID argument", () => {
  let t: TestApp;
  let supplier: Record<string, string>;
  let meterPoints: number;
  beforeAll(async () => {
    t = await startTestApp();
    const at = "2026-01-01T00:00:00Z";
    const r = await applyEvents(t, [
      { eventId: "i1", occurredAt: at, type: "MeterPointRegistered", mpxn: A, supplier: "EDFE" },
      { eventId: "i2", occurredAt: at, type: "MeterPointRegistered", mpxn: B, supplier: "OVOE" },
      { eventId: "i3", occurredAt: at, type: "DeviceRegistered", deviceId: D1, deviceType: "ESME" },
      { eventId: "i4", occurredAt: at, type: "DeviceAssociated", deviceId: D1, mpxn: A },
      { eventId: "i5", occurredAt: at, type: "DeviceStatusChanged", deviceId: D1, status: "Commissioned" },
    ]);
    expect(r.rejected).toEqual([]);
    supplier = t.bearer(await t.createKey(Role.SUPPLIER, "EDFE"));
    meterPoints = 2;
  });
  afterAll(async () => t.close());

  /** Runs as DCC and as supplier EDFE; neither may see a 500 or an internal error. */
  async function both(query: string, variables: Record<string, unknown>): Promise<[Body, Body]> {
    const out: Body[] = [];
    for (const headers of [{}, supplier]) {
      const { status, body } = await t.gql(query, variables, headers);
      expect(status).not.toBe(500);
      expect(codes(body)).not.toContain("INTERNAL_SERVER_ERROR");
      out.push(body as Body);
    }
    return out as [Body, Body];
  }

  describe.each(INJECTIONS)("%s", (s) => {
    it("meterPoint(mpxn) and meterPoints(mpxns): INVALID_MPXN, nothing found", async () => {
      const [dcc, sup] = await both(`query($s: ID!) { meterPoint(mpxn: $s) { mpxn } }`, { s });
      for (const b of [dcc, sup]) {
        expect(b.data).toEqual({ meterPoint: null });
        expect(codes(b)).toEqual(["INVALID_MPXN"]);
      }
      const [many] = await both(`query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn } }`, { m: [s, A] });
      expect(many.data).toEqual({ meterPoints: [null, { mpxn: A }] });
      expect(codes(many)).toEqual(["INVALID_MPXN"]);
    });

    it("device(deviceId): INVALID_DEVICE_ID", async () => {
      const [dcc, sup] = await both(`query($s: ID!) { device(deviceId: $s) { deviceId } }`, { s });
      for (const b of [dcc, sup]) {
        expect(b.data).toEqual({ device: null });
        expect(codes(b)).toEqual(["INVALID_DEVICE_ID"]);
      }
    });

    it("meterPointsConnection(filter, after): no rows, or BAD_USER_INPUT for the cursor", async () => {
      const q = `query($f: MeterPointFilter, $a: String) { meterPointsConnection(filter: $f, after: $a) { edges { node { mpxn } } } }`;
      for (const f of [{ networkOperator: s }, { supplier: s }]) {
        const [dcc, sup] = await both(q, { f });
        expect(dcc.data).toEqual({ meterPointsConnection: { edges: [] } });
        expect(sup.data).toEqual({ meterPointsConnection: { edges: [] } });
      }
      const [cursor] = await both(q, { a: s });
      expect(codes(cursor)).toEqual(["BAD_USER_INPUT"]);
    });

    it("serviceFlagTransitions(filter, after): no rows, or a precise error", async () => {
      const q = `query($f: TransitionFilter, $a: String) { serviceFlagTransitions(filter: $f, after: $a) { edges { node { mpxn } } } }`;
      const [dcc, sup] = await both(q, { f: { networkOperator: s } });
      expect(dcc.data).toEqual({ serviceFlagTransitions: { edges: [] } });
      expect(sup.data).toEqual({ serviceFlagTransitions: { edges: [] } });
      const [mpxns] = await both(q, { f: { mpxns: [s] } });
      expect(codes(mpxns)).toEqual(["INVALID_MPXN"]);
      const [cursor] = await both(q, { a: s });
      expect(codes(cursor)).toEqual(["BAD_USER_INPUT"]);
    });

    it("serviceFlagCounts(networkOperator): zero everywhere", async () => {
      const [dcc, sup] = await both(
        `query($s: String) { serviceFlagCounts(networkOperator: $s) { count } }`,
        { s },
      );
      for (const b of [dcc, sup]) {
        const counts = (b.data!.serviceFlagCounts as { count: number }[]).map((c) => c.count);
        expect(counts).toEqual([0, 0, 0, 0]);
      }
    });

    it("flowFiles(recipient): no rows for DCC, FORBIDDEN for a supplier", async () => {
      const [dcc, sup] = await both(`query($s: String) { flowFiles(recipient: $s) { __typename } }`, { s });
      expect(dcc.data).toEqual({ flowFiles: [] });
      expect(codes(sup)).toEqual(["FORBIDDEN"]);
    });

    it("history cursors (flagHistory, statusHistory after): BAD_USER_INPUT", async () => {
      const [history] = await both(
        `query($s: String) { meterPoint(mpxn: "${A}") { flagHistory(after: $s) { edges { cursor } } } }`,
        { s },
      );
      expect(codes(history)).toEqual(["BAD_USER_INPUT"]);
      const [status] = await both(
        `query($s: String) { device(deviceId: "${D1}") { statusHistory(after: $s) { edges { cursor } } } }`,
        { s },
      );
      expect(codes(status)).toEqual(["BAD_USER_INPUT"]);
    });
  });

  it("applyEvents stores injection strings as data or rejects them, and adds no other row", async () => {
    const at = "2026-02-01T00:00:00Z";
    const fresh = syntheticMpan(14, 7);
    const events = INJECTIONS.flatMap((s, i) => [
      { eventId: s, occurredAt: at, type: "MeterPointRegistered", mpxn: s },
      { eventId: `${s}#d${i}`, occurredAt: at, type: "DeviceRegistered", deviceId: s, deviceType: "ESME" },
      {
        eventId: `${s}#r${i}`,
        occurredAt: at,
        type: "DeviceRegistered",
        deviceId: `AA-00-00-00-00-00-01-${String(i).padStart(2, "0")}`,
        deviceType: "ESME",
        smets: s,
        manufacturer: s,
        model: s,
        firmwareVersion: s,
      },
    ]);
    events.push({
      eventId: "inj-last",
      occurredAt: at,
      type: "MeterPointRegistered",
      mpxn: fresh,
      supplier: INJECTIONS[0]!,
      networkOperator: INJECTIONS[2]!,
    } as never);
    const { status, body } = await t.gql<{
      applyEvents: { applied: number; rejected: { eventId: string; code: string }[] };
    }>(APPLY_EVENTS, { events: events.map(toEventInput) });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const r = body.data!.applyEvents;
    expect(r.rejected.map((x) => x.code).sort()).toEqual(
      [...INJECTIONS.map(() => "INVALID_MPXN"), ...INJECTIONS.map(() => "INVALID_DEVICE_ID")].sort(),
    );
    expect(r.applied).toBe(INJECTIONS.length + 1);
    // Exactly one more meter point, with the strings stored as they were sent.
    const rows = await t.app.ds.query(
      "SELECT mpxn, supplier, network_operator FROM meter_point ORDER BY mpxn",
    );
    expect(rows).toHaveLength(meterPoints + 1);
    expect(rows).toContainEqual({ mpxn: fresh, supplier: INJECTIONS[0], network_operator: INJECTIONS[2] });
    const models = await t.app.ds.query(
      "SELECT DISTINCT model FROM device WHERE model IS NOT NULL ORDER BY model",
    );
    expect(models.map((m: { model: string }) => m.model).sort()).toEqual([...INJECTIONS].sort());
  });
});
