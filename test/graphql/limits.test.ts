import { Role } from "../../src/domain/access";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { APPLY_EVENTS, toEventInput } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

/** Every limit of SPEC §4, each rejected with its code (and the GraphQL-over-HTTP status). */
describe("limits", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const codes = (body: { errors?: { extensions?: { code?: string } }[] }) =>
    (body.errors ?? []).map((e) => e.extensions?.code);

  it("rejects an operation deeper than MAX_QUERY_DEPTH with QUERY_TOO_COMPLEX before running it", async () => {
    // device → meterPoints → devices → meterPoints → … : 14 levels, the default limit is 12.
    let sel = "mpxn";
    for (let i = 0; i < 6; i++) sel = `devices { deviceId meterPoints { ${sel} } }`;
    const query = `{ meterPoint(mpxn: "${syntheticMpan(13, 1)}") { ${sel} } }`;
    t.counter.reset();
    const { status, body } = await t.gql(query);
    expect(status).toBe(400);
    expect(codes(body)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(body.errors![0]!.message).toMatch(/depth limit of 12 exceeded/);
    expect(t.counter.statements.filter((s) => /meter_point/.test(s))).toEqual([]);
  });

  it("counts depth through fragments too", async () => {
    let frags = "fragment F0 on MeterPoint { mpxn }";
    for (let i = 1; i <= 7; i++)
      frags += ` fragment F${i} on MeterPoint { devices { meterPoints { ...F${i - 1} } } }`;
    const { body } = await t.gql(`{ meterPoint(mpxn: "${syntheticMpan(13, 1)}") { ...F7 } } ${frags}`);
    expect(codes(body)).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("accepts an operation within the depth limit", async () => {
    const { status, body } = await t.gql(
      `{ meterPoint(mpxn: "${syntheticMpan(13, 1)}") { devices { meterPoints { devices { deviceId } } } } }`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { meterPoint: null } });
  });

  it("rejects an operation whose estimated cost exceeds MAX_QUERY_COST, counting list sizes", async () => {
    const mpxns = Array.from({ length: 1000 }, (_, i) => syntheticMpan(13, i + 1));
    const { status, body } = await t.gql(
      `query($m: [ID!]!) { meterPoints(mpxns: $m) { devices(includeHistoric: true) { statusHistory(first: 500) { edges { node { status } } } } } }`,
      { m: mpxns },
    );
    expect(status).toBe(400);
    expect(codes(body)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(body.errors![0]!.message).toMatch(/cost limit of 200000 exceeded/);
  });

  it("takes the cost of `first` from the request's variables", async () => {
    const q = `query($n: Int) { meterPointsConnection(first: $n) { edges { node { flagHistory(first: $n) { edges { node { sequence } } } } } } }`;
    const big = await t.gql(q, { n: 500 });
    expect(codes(big.body)).toEqual(["QUERY_TOO_COMPLEX"]);
    const small = await t.gql(q, { n: 5 });
    expect(small.body).toEqual({ data: { meterPointsConnection: { edges: [] } } });
  });

  it("re-counts the cost for each request's variables (a cheap request first does not let a costly one through)", async () => {
    const q = `query($n: Int) { serviceFlagTransitions(first: $n) { edges { node { meterPoint { devices(includeHistoric: true) { statusHistory(first: $n) { edges { cursor } } } } } } } }`;
    const small = await t.gql(q, { n: 2 });
    expect(small.body).toEqual({ data: { serviceFlagTransitions: { edges: [] } } });
    const big = await t.gql(q, { n: 500 });
    expect(codes(big.body)).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("does not let a request with bad variables vouch for the same document", async () => {
    const mpxns = JSON.stringify(Array.from({ length: 1000 }, (_, i) => syntheticMpan(13, i + 1)));
    const q = `query($d: ID!) { device(deviceId: $d) { deviceId } meterPoints(mpxns: ${mpxns}) { devices(includeHistoric: true) { statusHistory(first: 100) { edges { cursor } } } } }`;
    const bad = await t.gql(q, {});
    expect(codes(bad.body)).toEqual(["BAD_USER_INPUT"]);
    const good = await t.gql(q, { d: "AA-00-00-00-00-00-00-01" });
    expect(codes(good.body)).toEqual(["QUERY_TOO_COMPLEX"]);
    const again = await t.gql(q, { d: "AA-00-00-00-00-00-00-01" });
    expect(codes(again.body)).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("sums the cost of aliases", async () => {
    const one = `meterPointsConnection(first: 500) { edges { node { devices { deviceId status model manufacturer } } } }`;
    const ok = await t.gql(`{ a: ${one} }`);
    expect(ok.body.errors).toBeUndefined();
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: ${one}`).join(" ");
    const { body } = await t.gql(`{ ${aliases} }`);
    expect(codes(body)).toEqual(["QUERY_TOO_COMPLEX"]);
  });

  it("bounds meterPoints to 1000 MPxNs", async () => {
    const mpxns = Array.from({ length: 1001 }, (_, i) => syntheticMpan(13, i + 1));
    const { body } = await t.gql(`query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn } }`, { m: mpxns });
    expect(codes(body)).toEqual(["BAD_USER_INPUT"]);
    expect(body.errors![0]!.message).toBe("expected at most 1000 entries in mpxns, got 1001");
  });

  it.each([
    ["meterPointsConnection", `{ meterPointsConnection(first: 501) { edges { cursor } } }`],
    ["serviceFlagTransitions", `{ serviceFlagTransitions(first: 501) { edges { cursor } } }`],
    [
      "flagHistory",
      `{ meterPointsConnection(first: 1) { edges { node { flagHistory(first: 501) { edges { cursor } } } } } }`,
    ],
  ])("bounds first to 500 (%s)", async (_name, query) => {
    if (_name === "flagHistory") {
      await t.gql(APPLY_EVENTS, {
        events: [
          toEventInput({
            eventId: "lim1",
            occurredAt: "2026-01-01T00:00:00Z",
            type: "MeterPointRegistered",
            mpxn: syntheticMpan(13, 1),
            supplier: "EDFE",
          }),
        ],
      });
    }
    const { body } = await t.gql(query);
    expect(codes(body)).toEqual(["BAD_USER_INPUT"]);
    expect(body.errors![0]!.message).toBe("expected first between 0 and 500, got 501");
  });

  it("bounds applyEvents to 1000 events", async () => {
    const events = Array.from({ length: 1001 }, (_, i) =>
      toEventInput({
        eventId: `big${i}`,
        occurredAt: "2026-01-01T00:00:00Z",
        type: "MeterPointRegistered",
        mpxn: syntheticMpan(14, i + 1),
      }),
    );
    const { body } = await t.gql(APPLY_EVENTS, { events });
    expect(codes(body)).toEqual(["BAD_USER_INPUT"]);
    expect(await t.app.ds.query("SELECT 1 FROM applied_event WHERE event_id = 'big0'")).toEqual([]);
  });

  it("caps the request body (MAX_BODY_BYTES, 1 MiB by default) with a JSON 413", async () => {
    const res = await t.fetch({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(1_100_000) } }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      errors: [
        {
          message: "expected a request body of at most 1048576 bytes",
          extensions: { code: "PAYLOAD_TOO_LARGE" },
        },
      ],
    });
  });

  it("refuses batched operations", async () => {
    const res = await t.fetch({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
  });
});

describe("rate limit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_POINTS: "3", RATE_LIMIT_WINDOW_SECONDS: "3600" });
  });
  afterAll(async () => t.close());

  it("answers RATE_LIMITED with HTTP 429 and Retry-After once a key spends its points, per key", async () => {
    const key = await t.createKey(Role.COMPARISON_SITE);
    const q = `{ meterPoint(mpxn: "${syntheticMpan(13, 1)}") { serviceFlag } }`;
    for (let i = 0; i < 3; i++) {
      const ok = await t.gql(q, undefined, t.bearer(key));
      expect(ok.status).toBe(200);
    }
    const res = await t.fetch({
      method: "POST",
      headers: { "content-type": "application/json", ...t.bearer(key) },
      body: JSON.stringify({ query: q }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors.map((e) => e.extensions.code)).toEqual(["RATE_LIMITED"]);
    // Another key has its own budget.
    const other = await t.gql(q);
    expect(other.status).toBe(200);
    expect(other.body.errors).toBeUndefined();
  });
});
