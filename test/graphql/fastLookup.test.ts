import { Role } from "../../src/domain/access";
import { fastLookupStats } from "../../src/graphql/fastLookup";
import { type TestApp, startTestApp } from "../support/harness";

/**
 * The single flag look-up's fast path (src/graphql/fastLookup.ts) answers exactly what Apollo
 * answers. Each case is sent twice: as is (eligible for the fast path) and with a no-op
 * `@include(if: true)` that makes it ineligible (Apollo answers). Bodies and statuses must match.
 */
const MPAN = "1312345678907";
const MPRN = "1234567890";

describe("flag look-up fast path", () => {
  let t: TestApp;
  let site: string;

  beforeAll(async () => {
    t = await startTestApp();
    site = await t.createKey(Role.COMPARISON_SITE);
    const o = await t.app.applier.applyRaw([
      {
        eventId: "r1",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: MPAN,
        supplier: "EDFE",
      },
      {
        eventId: "r2",
        occurredAt: "2026-03-01T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: MPRN,
        supplier: "BGAS",
        networkOperator: "NGN",
      },
      {
        eventId: "d1",
        occurredAt: "2026-03-02T10:00:00Z",
        type: "DeviceRegistered",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        deviceType: "ESME",
      },
      {
        eventId: "a1",
        occurredAt: "2026-03-02T10:01:00Z",
        type: "DeviceAssociated",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        mpxn: MPAN,
      },
      {
        eventId: "s1",
        occurredAt: "2026-03-02T10:02:00Z",
        type: "DeviceStatusChanged",
        deviceId: "BC-33-AC-FF-FE-FA-55-3D",
        status: "Commissioned",
      },
    ]);
    expect(o.rejected).toEqual([]);
  });
  afterAll(() => t.close());

  async function post(query: string, variables: unknown, key: string | null) {
    const res = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const headers = Object.fromEntries(
      [...res.headers.entries()].filter(
        ([h]) => !["date", "x-request-id", "etag", "content-length"].includes(h),
      ),
    );
    return { status: res.status, body: await res.text(), headers };
  }

  const cases: [string, string, unknown][] = [
    [
      "the comparison site's look-up",
      `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`,
      { m: MPAN },
    ],
    [
      "a gas meter point with a null flag",
      `query($m: ID!) { meterPoint(mpxn: $m) { serviceFlag mpxn serviceFlagEffectiveAt fuel } }`,
      { m: MPRN },
    ],
    [
      "an unknown MPxN (null)",
      `query($m: ID!) { meterPoint(mpxn: $m) { mpxn serviceFlag } }`,
      { m: "1000123456788" },
    ],
    [
      "aliases and __typename",
      `{ mp: meterPoint(mpxn: "${MPAN}") { id: mpxn flag: serviceFlag __typename } }`,
      undefined,
    ],
    [
      "an invalid MPAN (INVALID_MPXN)",
      `query($m: ID!) { meterPoint(mpxn: $m) { mpxn serviceFlag } }`,
      { m: "1312345678900" },
    ],
    ["a missing variable", `query($m: ID!) { meterPoint(mpxn: $m) { mpxn serviceFlag } }`, {}],
    [
      "a list in input order, with an unknown and a repeated MPxN",
      `query Many($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`,
      { m: [MPRN, "1000123456788", MPAN, MPRN] },
    ],
    [
      "a literal list with aliases",
      `{ mps: meterPoints(mpxns: ["${MPAN}", "${MPRN}"]) { f: serviceFlag mpxn } }`,
      undefined,
    ],
    [
      "a list with an invalid MPxN (partial data)",
      `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn serviceFlag } }`,
      { m: [MPAN, "12"] },
    ],
    [
      "a list longer than 1000 (BAD_USER_INPUT)",
      `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn } }`,
      { m: Array.from({ length: 1001 }, () => MPAN) },
    ],
    [
      "a variable of the wrong type",
      `query($m: ID!) { meterPoint(mpxn: $m) { mpxn serviceFlag } }`,
      { m: 1312345678907 },
    ],
  ];

  /** Cases the fast path must answer itself (the rest it hands to Apollo). */
  const eligible = new Set([
    "the comparison site's look-up",
    "a gas meter point with a null flag",
    "an unknown MPxN (null)",
    "aliases and __typename",
    "a list in input order, with an unknown and a repeated MPxN",
    "a literal list with aliases",
  ]);

  const withInclude = (q: string) =>
    q.replace(/\{ (\w+(: \w+)?)/g, (m, f: string) =>
      f.startsWith("meterPoint") || f.startsWith("mp:") || f.startsWith("mps:")
        ? m
        : `{ ${f} @include(if: true)`,
    );

  it.each(cases)("answers %s exactly as Apollo does", async (_name, query, variables) => {
    const apolloQuery = withInclude(query);
    expect(apolloQuery).not.toBe(query);
    for (const key of [site, t.dccKey, await t.createKey(Role.NETWORK_OPERATOR, "LOND")]) {
      const before = fastLookupStats.served;
      const fast = await post(query, variables, key);
      const served = fastLookupStats.served;
      if (eligible.has(_name)) expect(served).toBe(before + 1);
      const apollo = await post(apolloQuery, variables, key);
      expect(fastLookupStats.served).toBe(served); // the @include variant went through Apollo
      expect(fast).toEqual(apollo);
    }
  });

  it("hands on what it read but does not answer: malformed JSON, a JSON scalar, another operation", async () => {
    const raw = async (body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(t.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${site}`, ...headers },
        body,
      });
      return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
    };
    const served = fastLookupStats.served;
    const query = `{ meterPoint(mpxn: "${MPAN}") { mpxn } }`;
    const malformed = await raw(JSON.stringify({ query }).slice(0, -1)); // no closing brace
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).errors[0].message).toBe(
      "expected a JSON request body, got malformed JSON",
    );
    const scalar = await raw(`"${MPAN}"`);
    expect(scalar.status).toBe(400);
    expect(JSON.parse(scalar.body).errors[0].extensions.code).toBe("BAD_REQUEST");
    const other = await raw(JSON.stringify({ query: "{ __typename }" }));
    expect(JSON.parse(other.body)).toEqual({ data: { __typename: "Query" } });
    // GraphQL over HTTP: a client preferring application/graphql-response+json gets Apollo's answer.
    const q = `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn } }`;
    const negotiated = await raw(JSON.stringify({ query: q, variables: { m: MPAN } }), {
      accept: "application/graphql-response+json",
    });
    expect(negotiated.type).toMatch(/^application\/graphql-response\+json/);
    expect(JSON.parse(negotiated.body)).toEqual({ data: { meterPoint: { mpxn: MPAN } } });
    expect(fastLookupStats.served).toBe(served);
    // The request id is kept, as on the Express path.
    const res = await fetch(t.url, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        authorization: `Bearer ${site}`,
        "x-request-id": "lookup-42",
      },
      body: JSON.stringify({ query: q, variables: { m: MPAN } }),
    });
    expect(res.headers.get("x-request-id")).toBe("lookup-42");
    expect(await res.json()).toEqual({ data: { meterPoint: { mpxn: MPAN } } });
    expect(fastLookupStats.served).toBe(served + 1);
  });

  it("takes the fast path for the comparison site's look-up and refuses what Apollo refuses", async () => {
    const q = `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`;
    await post(q, { m: MPAN }, site); // warm the key cache
    const served = fastLookupStats.served;
    t.counter.reset();
    const ok = await post(q, { m: MPAN }, site);
    expect(fastLookupStats.served).toBe(served + 1);
    expect(JSON.parse(ok.body)).toEqual({
      data: {
        meterPoint: {
          mpxn: MPAN,
          fuel: "ELECTRICITY",
          serviceFlag: "A",
          serviceFlagEffectiveAt: "2026-03-02T10:02:00.000Z",
        },
      },
    });
    expect(t.counter.count).toBe(1); // one primary-key read (the key look-up is cached)

    const anonymous = await post(q, { m: MPAN }, null);
    expect(fastLookupStats.served).toBe(served + 1);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    const unknown = await post(q, { m: MPAN }, "smi_" + "x".repeat(43));
    expect(unknown.status).toBe(401);
    // Fields outside the comparison-site view are never taken by the fast path.
    const detail = await post(`query($m: ID!) { meterPoint(mpxn: $m) { mpxn supplier } }`, { m: MPAN }, site);
    expect(JSON.parse(detail.body).errors[0].extensions.code).toBe("FORBIDDEN");
  });
  it("coalesces concurrent single look-ups, each answered with its own row, and reads after writes", async () => {
    const q = `query One($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag } }`;
    const late = "1000123456788"; // unknown until registered below
    await post(q, { m: MPAN }, site); // warm the key cache
    const served = fastLookupStats.served;
    t.counter.reset();
    const mpxns = Array.from({ length: 30 }, (_, i) => [MPAN, MPRN, late][i % 3]!);
    const answers = await Promise.all(mpxns.map((m) => post(q, { m }, site)));
    expect(fastLookupStats.served).toBe(served + 30);
    expect(t.counter.count).toBeLessThanOrEqual(30);
    answers.forEach((a, i) => {
      const mp = (JSON.parse(a.body) as { data: { meterPoint: { mpxn: string } | null } }).data.meterPoint;
      expect(mp?.mpxn ?? null).toBe(mpxns[i] === late ? null : mpxns[i]);
    });
    const o = await t.app.applier.applyRaw([
      {
        eventId: "late-r1",
        occurredAt: "2026-03-03T09:00:00Z",
        type: "MeterPointRegistered",
        mpxn: late,
        supplier: "EDFE",
      },
    ]);
    expect(o.rejected).toEqual([]);
    const after = await post(q, { m: late }, site);
    expect(JSON.parse(after.body)).toEqual({
      data: { meterPoint: { mpxn: late, fuel: "ELECTRICITY", serviceFlag: null } },
    });
  });
});
