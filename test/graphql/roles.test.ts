import { type Role } from "../../src/domain/access";
import { createSchema } from "../../src/graphql/schema";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { APPLY_EVENTS, applyEvents, toEventInput } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

/*
 * The role matrix of SPEC §5: every role × every query, field and mutation, asserting data or
 * `extensions.code`, on a small inventory with two suppliers and two networks.
 *
 *   meter point   network  supplier  devices
 *   A (MPAN)      MANW     EDFE      ESME D1 (import, Commissioned)
 *   B (MPAN)      EELC     OVOE      ESME D2 (Commissioned)
 *   C (MPAN)      MANW     OVOE      ESME D1 (export)
 *   G (MPRN)      NGN      EDFE      GSME D4 (InstalledNotCommissioned)
 */
const A = syntheticMpan(13, 1); // MANW
const B = syntheticMpan(10, 2); // EELC
const C = syntheticMpan(13, 3); // MANW
const G = "9876543210";
const ALL = [A, B, C, G];
const D1 = "AA-00-00-00-00-00-00-01";
const D2 = "AA-00-00-00-00-00-00-02";
const D4 = "AA-00-00-00-00-00-00-04";
const at = (h: number) => new Date(Date.parse("2026-01-01T00:00:00Z") + h * 3600_000).toISOString();

type Who =
  | "DCC"
  | "SUPPLIER EDFE"
  | "SUPPLIER OVOE"
  | "NETWORK_OPERATOR MANW"
  | "NETWORK_OPERATOR EELC"
  | "COMPARISON_SITE";
const WHO: Who[] = [
  "DCC",
  "SUPPLIER EDFE",
  "SUPPLIER OVOE",
  "NETWORK_OPERATOR MANW",
  "NETWORK_OPERATOR EELC",
  "COMPARISON_SITE",
];
/** The meter points each viewer may read everything of (the rest: the comparison-site view). */
const FULL: Record<Who, string[]> = {
  DCC: ALL,
  "SUPPLIER EDFE": [A, G],
  "SUPPLIER OVOE": [B, C],
  "NETWORK_OPERATOR MANW": [A, C],
  "NETWORK_OPERATOR EELC": [B],
  COMPARISON_SITE: [],
};
/** Devices each viewer may look up with device(deviceId). */
const DEVICES: Record<Who, string[]> = {
  DCC: [D1, D2, D4],
  "SUPPLIER EDFE": [D1, D4],
  "SUPPLIER OVOE": [D1, D2], // D1 is associated with C (export), which OVOE supplies
  "NETWORK_OPERATOR MANW": [D1],
  "NETWORK_OPERATOR EELC": [D2],
  COMPARISON_SITE: [],
};
const DETAIL_FIELDS = ["networkOperator", "supplier", "flagExplanation", "devices", "flagHistory"] as const;

const MP_FIELDS = `mpxn fuel serviceFlag serviceFlagEffectiveAt networkOperator supplier
  flagExplanation { rule contributingDevices { deviceId } }
  devices(includeHistoric: true) { deviceId status statusHistory { edges { node { status } } } }
  flagHistory { edges { node { sequence from to meterPoint { mpxn } } } }`;

type Errors = { message: string; path?: (string | number)[]; extensions?: { code?: string } }[] | undefined;
const codesAt = (errors: Errors, path: (string | number)[]) =>
  (errors ?? [])
    .filter((e) => JSON.stringify(e.path) === JSON.stringify(path))
    .map((e) => e.extensions?.code);

describe("roles and scoping (SPEC §5)", () => {
  let t: TestApp;
  const headers = {} as Record<Who, Record<string, string>>;
  const as = <T = Record<string, unknown>>(who: Who, query: string, variables?: Record<string, unknown>) =>
    t.gql<T>(query, variables, headers[who]);

  beforeAll(async () => {
    t = await startTestApp();
    const r = await applyEvents(t, [
      { eventId: "r1", occurredAt: at(0), type: "MeterPointRegistered", mpxn: A, supplier: "EDFE" },
      { eventId: "r2", occurredAt: at(0), type: "MeterPointRegistered", mpxn: B, supplier: "OVOE" },
      { eventId: "r3", occurredAt: at(0), type: "MeterPointRegistered", mpxn: C, supplier: "OVOE" },
      {
        eventId: "r4",
        occurredAt: at(0),
        type: "MeterPointRegistered",
        mpxn: G,
        supplier: "EDFE",
        networkOperator: "NGN",
      },
      {
        eventId: "r5",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: D1,
        deviceType: "ESME",
        model: "X1",
      },
      {
        eventId: "r6",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: D2,
        deviceType: "ESME",
        model: "X1",
      },
      {
        eventId: "r7",
        occurredAt: at(1),
        type: "DeviceRegistered",
        deviceId: D4,
        deviceType: "GSME",
        model: "G1",
      },
      { eventId: "r8", occurredAt: at(2), type: "DeviceAssociated", deviceId: D1, mpxn: A },
      { eventId: "r9", occurredAt: at(2), type: "DeviceAssociated", deviceId: D1, mpxn: C, role: "Export" },
      { eventId: "r10", occurredAt: at(2), type: "DeviceAssociated", deviceId: D2, mpxn: B },
      { eventId: "r11", occurredAt: at(2), type: "DeviceAssociated", deviceId: D4, mpxn: G },
      {
        eventId: "r12",
        occurredAt: at(3),
        type: "DeviceStatusChanged",
        deviceId: D1,
        status: "Commissioned",
      },
      {
        eventId: "r13",
        occurredAt: at(3),
        type: "DeviceStatusChanged",
        deviceId: D2,
        status: "Commissioned",
      },
      {
        eventId: "r14",
        occurredAt: at(3),
        type: "DeviceStatusChanged",
        deviceId: D4,
        status: "InstalledNotCommissioned",
      },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.transitions.map((x) => x.mpxn).sort()).toEqual([...ALL].sort());
    const role = (who: Who): [Role, string | null] => {
      const [r0, party] = who.split(" ");
      return [r0 as Role, party ?? null];
    };
    for (const who of WHO) {
      const [r0, party] = role(who);
      headers[who] = who === "DCC" ? t.bearer(t.dccKey) : t.bearer(await t.createKey(r0, party));
    }
  });
  afterAll(async () => t.close());

  describe.each(WHO)("%s", (who) => {
    it.each(ALL)(
      "meterPoint(%s): the comparison-site view always, everything else only in scope",
      async (mpxn) => {
        const { status, body } = await as<{ meterPoint: Record<string, unknown> }>(
          who,
          `query($m: ID!) { meterPoint(mpxn: $m) { ${MP_FIELDS} } }`,
          { m: mpxn },
        );
        expect(status).toBe(200);
        const mp = body.data!.meterPoint;
        expect(mp.mpxn).toBe(mpxn);
        expect(mp.fuel).toBe(mpxn === G ? "GAS" : "ELECTRICITY");
        expect(mp.serviceFlag).toBe(mpxn === G ? "I" : "A");
        expect(mp.serviceFlagEffectiveAt).toBe(at(3));
        const full = FULL[who].includes(mpxn);
        for (const f of DETAIL_FIELDS) {
          if (full) {
            expect(mp[f]).not.toBeNull();
            expect(codesAt(body.errors, ["meterPoint", f])).toEqual([]);
          } else {
            expect(mp[f]).toBeNull();
            expect(codesAt(body.errors, ["meterPoint", f])).toEqual(["FORBIDDEN"]);
          }
        }
        if (full) expect(body.errors).toBeUndefined();
        else expect(body.errors).toHaveLength(DETAIL_FIELDS.length);
      },
    );

    it("meterPoints: per meter point, in input order, null for unknown", async () => {
      const unknown = syntheticMpan(13, 999);
      const { body } = await as<{ meterPoints: (Record<string, unknown> | null)[] }>(
        who,
        `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn serviceFlag supplier networkOperator } }`,
        { m: [...ALL, unknown] },
      );
      const list = body.data!.meterPoints;
      expect(list.map((p) => p?.mpxn ?? null)).toEqual([...ALL, null]);
      ALL.forEach((mpxn, i) => {
        const full = FULL[who].includes(mpxn);
        expect(list[i]!.serviceFlag).toBe(mpxn === G ? "I" : "A");
        expect(codesAt(body.errors, ["meterPoints", i, "supplier"])).toEqual(full ? [] : ["FORBIDDEN"]);
        expect(list[i]!.supplier).toBe(
          full ? { [A]: "EDFE", [B]: "OVOE", [C]: "OVOE", [G]: "EDFE" }[mpxn] : null,
        );
      });
    });

    it("meterPointsConnection: only the viewer's meter points, whatever the filter", async () => {
      const q = `query($f: MeterPointFilter) { meterPointsConnection(filter: $f, first: 10) { edges { node { mpxn supplier } } } }`;
      const plain = await as<{ meterPointsConnection: { edges: { node: { mpxn: string } }[] } }>(who, q);
      // A filter naming someone else's party can only narrow the viewer's scope, never widen it.
      const widen = await as<{ meterPointsConnection: { edges: { node: { mpxn: string } }[] } }>(who, q, {
        f: { supplier: "OVOE", networkOperator: "EELC" },
      });
      if (who === "COMPARISON_SITE") {
        for (const r of [plain, widen]) {
          expect(r.body.data).toBeNull();
          expect(r.body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        }
        return;
      }
      const scoped = who === "DCC" ? ALL : FULL[who];
      expect(plain.body.errors).toBeUndefined();
      expect(plain.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn).sort()).toEqual(
        [...scoped].sort(),
      );
      expect(widen.body.errors).toBeUndefined();
      expect(widen.body.data!.meterPointsConnection.edges.map((e) => e.node.mpxn)).toEqual(
        who === "DCC" || who === "SUPPLIER OVOE" || who === "NETWORK_OPERATOR EELC" ? [B] : [],
      );
    });

    it("serviceFlagCounts: counts over the viewer's meter points only", async () => {
      const { body } = await as<{ serviceFlagCounts: { serviceFlag: string | null; count: number }[] }>(
        who,
        `{ serviceFlagCounts { serviceFlag count } }`,
      );
      if (who === "COMPARISON_SITE") {
        expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        return;
      }
      const scoped = FULL[who];
      const counts = Object.fromEntries(
        body.data!.serviceFlagCounts.map((c) => [c.serviceFlag ?? "null", c.count]),
      );
      expect(counts).toEqual({
        A: scoped.filter((m) => m !== G).length,
        I: scoped.filter((m) => m === G).length,
        N: 0,
        null: 0,
      });
      // The argument narrows, never widens.
      const other = await as<{ serviceFlagCounts: { count: number }[] }>(
        who,
        `{ serviceFlagCounts(networkOperator: "EELC") { count } }`,
      );
      const total = other.body.data!.serviceFlagCounts.reduce((s, c) => s + c.count, 0);
      expect(total).toBe(scoped.includes(B) ? 1 : 0);
    });

    it("serviceFlagTransitions: transitions of the viewer's meter points only, whatever the filter", async () => {
      const q = `query($f: TransitionFilter) { serviceFlagTransitions(filter: $f) { edges { node { mpxn to meterPoint { mpxn supplier } } } } }`;
      const plain = await as<{ serviceFlagTransitions: { edges: { node: { mpxn: string } }[] } }>(who, q);
      const widen = await as<{ serviceFlagTransitions: { edges: { node: { mpxn: string } }[] } }>(who, q, {
        f: { mpxns: [B], networkOperator: "EELC" },
      });
      if (who === "COMPARISON_SITE") {
        expect(plain.body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        expect(widen.body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        return;
      }
      expect(plain.body.errors).toBeUndefined();
      expect(plain.body.data!.serviceFlagTransitions.edges.map((e) => e.node.mpxn).sort()).toEqual(
        [...FULL[who]].sort(),
      );
      expect(widen.body.data!.serviceFlagTransitions.edges.map((e) => e.node.mpxn)).toEqual(
        FULL[who].includes(B) ? [B] : [],
      );
    });

    it.each([D1, D2, D4])("device(%s): only a device on a meter point in scope", async (deviceId) => {
      const { body } = await as<{
        device: { deviceId: string; meterPoints: { mpxn: string; supplier: string | null }[] } | null;
      }>(
        who,
        `query($d: ID!) { device(deviceId: $d) { deviceId status statusHistory { edges { node { status } } } meterPoints { mpxn supplier } } }`,
        { d: deviceId },
      );
      if (!DEVICES[who].includes(deviceId)) {
        expect(body.data).toEqual({ device: null });
        expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        return;
      }
      const d = body.data!.device!;
      expect(d.deviceId).toBe(deviceId);
      // Nested meter points follow their own rules: D1 sits on A (EDFE, MANW) and C (OVOE, MANW).
      d.meterPoints.forEach((mp, i) => {
        const full = FULL[who].includes(mp.mpxn);
        expect(codesAt(body.errors, ["device", "meterPoints", i, "supplier"])).toEqual(
          full ? [] : ["FORBIDDEN"],
        );
        expect(mp.supplier === null).toBe(!full);
      });
    });

    it("device of an unknown id: null for DCC, FORBIDDEN for others (no probing)", async () => {
      const { body } = await as(who, `{ device(deviceId: "AA-00-00-00-00-00-00-99") { deviceId } }`);
      if (who === "DCC") {
        expect(body).toEqual({ data: { device: null } });
      } else {
        expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      }
    });

    it("meterPoint(asOf): history only for meter points in scope", async () => {
      for (const mpxn of ALL) {
        const { body } = await as<{ meterPoint: { serviceFlag: string | null } | null }>(
          who,
          `query($m: ID!) { meterPoint(mpxn: $m, asOf: "${at(2)}") { serviceFlag } }`,
          { m: mpxn },
        );
        if (FULL[who].includes(mpxn)) {
          expect(body).toEqual({ data: { meterPoint: { serviceFlag: null } } });
        } else {
          expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        }
      }
    });

    it("applyEvents: DCC only, and a refused batch changes nothing", async () => {
      const eventId = `w-${who}`;
      const { body } = await as<{ applyEvents: { applied: number } }>(who, APPLY_EVENTS, {
        events: [
          toEventInput({ eventId, occurredAt: at(5), type: "SupplierChanged", mpxn: B, supplier: "BGAS" }),
          toEventInput({
            eventId: `${eventId}-back`,
            occurredAt: at(5),
            type: "SupplierChanged",
            mpxn: B,
            supplier: "OVOE",
          }),
        ],
      });
      const applied = await t.app.ds.query("SELECT 1 FROM applied_event WHERE event_id = $1", [eventId]);
      if (who === "DCC") {
        expect(body.errors).toBeUndefined();
        expect(body.data!.applyEvents.applied).toBe(2);
        expect(applied).toHaveLength(1);
      } else {
        expect(body.data).toBeNull();
        expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
        expect(applied).toHaveLength(0);
      }
    });
  });

  it.each(WHO)("%s: the flows queries (flowFiles, pendingFlowChanges) are DCC only", async (who) => {
    for (const field of ["flowFiles", "pendingFlowChanges"]) {
      const { body } = await as(who, `{ ${field} { __typename } }`);
      if (who === "DCC") {
        expect(body.errors).toBeUndefined();
        expect(Array.isArray(body.data![field])).toBe(true);
      } else {
        expect(body.data).toBeNull();
        expect(body.errors!.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      }
    }
  });

  it("covers every root field of the schema (a new query or mutation must join this matrix)", () => {
    const schema = createSchema();
    const roots = [schema.getQueryType()!, schema.getMutationType()!].flatMap((type) =>
      Object.keys(type.getFields()).map((f) => `${type.name}.${f}`),
    );
    expect(roots.sort()).toEqual(
      [
        "Mutation.applyEvents",
        "Query.device",
        "Query.flowFiles",
        "Query.meterPoint",
        "Query.meterPoints",
        "Query.meterPointsConnection",
        "Query.pendingFlowChanges",
        "Query.serviceFlagCounts",
        "Query.serviceFlagTransitions",
      ].sort(),
    );
  });

  describe("cross-tenant", () => {
    it("supplier EDFE reads none of OVOE's meter points' details, through any path", async () => {
      const { body } = await as<{ meterPoints: Record<string, unknown>[] }>(
        "SUPPLIER EDFE",
        `query($m: [ID!]!) { meterPoints(mpxns: $m) { ${MP_FIELDS} } }`,
        { m: [B, C] },
      );
      for (const mp of body.data!.meterPoints) for (const f of DETAIL_FIELDS) expect(mp[f]).toBeNull();
      expect(body.errors).toHaveLength(2 * DETAIL_FIELDS.length);
      expect(new Set(body.errors!.map((e) => e.extensions?.code))).toEqual(new Set(["FORBIDDEN"]));
      expect(JSON.stringify(body.data)).not.toContain("OVOE");
      expect(JSON.stringify(body.data)).not.toContain(D2);
    });

    it("network operator EELC reads none of MANW's meter points' details", async () => {
      const { body } = await as<{ meterPoints: Record<string, unknown>[] }>(
        "NETWORK_OPERATOR EELC",
        `query($m: [ID!]!) { meterPoints(mpxns: $m) { ${MP_FIELDS} } }`,
        { m: [A, C] },
      );
      for (const mp of body.data!.meterPoints) for (const f of DETAIL_FIELDS) expect(mp[f]).toBeNull();
      expect(body.errors).toHaveLength(2 * DETAIL_FIELDS.length);
      expect(JSON.stringify(body.data)).not.toContain(D1);
    });

    it("a comparison site may ask for the flags of many meter points at once, and nothing else", async () => {
      const { body } = await as(
        "COMPARISON_SITE",
        `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`,
        { m: ALL },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({
        meterPoints: ALL.map((mpxn) => ({
          mpxn,
          fuel: mpxn === G ? "GAS" : "ELECTRICITY",
          serviceFlag: mpxn === G ? "I" : "A",
          serviceFlagEffectiveAt: at(3),
        })),
      });
    });

    it("field checks issue no SQL of their own: statements do not grow with the number of denied fields", async () => {
      const q = `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn supplier networkOperator flagExplanation { rule } } }`;
      await as("SUPPLIER EDFE", q, { m: [A] }); // warm the key cache
      t.counter.reset();
      await as("SUPPLIER EDFE", q, { m: [A] });
      const one = t.counter.count;
      t.counter.reset();
      await as("SUPPLIER EDFE", q, { m: ALL });
      expect(t.counter.count).toBe(one);
    });
  });
});
