import { Role } from "../../src/domain/access";
import { syntheticMpan } from "../../src/ingest/synthetic";
import { type TestApp, startTestApp } from "../support/harness";

const Q = `{ meterPoint(mpxn: "${syntheticMpan(13, 1)}") { mpxn serviceFlag } }`;

async function post(
  t: TestApp,
  headers: Record<string, string>,
  body: string = JSON.stringify({ query: Q }),
) {
  const res = await t.fetch({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  return {
    res,
    text,
    json: JSON.parse(text) as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

describe("authentication", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it("serves a request that presents a valid key", async () => {
    const { res, json } = await post(t, {});
    expect(res.status).toBe(200);
    expect(json).toEqual({ data: { meterPoint: null } });
  });

  const unknownKey = `smi_${"A".repeat(43)}`;
  it.each([
    ["missing", ""],
    ["blank", "   "],
    ["not Bearer", `Basic ${Buffer.from("a:b").toString("base64")}`],
    ["Bearer without a key", "Bearer"],
    ["malformed key", "Bearer not-a-key"],
    ["key with trailing garbage", `Bearer ${unknownKey} extra`],
    ["unknown key", `Bearer ${unknownKey}`],
    ["SQL in the key", `Bearer smi_' OR '1'='1' --`],
  ])(
    "refuses a %s Authorization with 401 UNAUTHENTICATED, as JSON, without echoing it",
    async (_name, value) => {
      const { res, text, json } = await post(t, { authorization: value });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/(graphql-response\+)?json/);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(json.data).toBeUndefined();
      expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
      if (value.trim().length > 6) expect(text).not.toContain(value.slice(7));
    },
  );

  it("refuses a revoked key", async () => {
    const { key, id } = await t.createKeyRecord(Role.SUPPLIER, "EDFE");
    await t.revokeKey(id);
    const { res, json } = await post(t, t.bearer(key));
    expect(res.status).toBe(401);
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("answers 401 with the GraphQL-over-HTTP media type when the client accepts it", async () => {
    const { res, json } = await post(t, { authorization: "", accept: "application/graphql-response+json" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("revocation with the key cache off (AUTH_CACHE_TTL_MS=0)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_CACHE_TTL_MS: "0" });
  });
  afterAll(async () => t.close());

  it("refuses a key on the first request after it is revoked", async () => {
    const { key, id } = await t.createKeyRecord(Role.NETWORK_OPERATOR, "MANW");
    expect((await post(t, t.bearer(key))).res.status).toBe(200);
    await t.revokeKey(id);
    const { res, json } = await post(t, t.bearer(key));
    expect(res.status).toBe(401);
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("HTTP: GraphQL over HTTP, CSRF, bodies", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it("answers with application/graphql-response+json when it is accepted", async () => {
    const { res, json } = await post(t, { accept: "application/graphql-response+json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
    expect(json).toEqual({ data: { meterPoint: null } });
  });

  it.each([
    ["a syntax error", "{ meterPoint(", "GRAPHQL_PARSE_FAILED"],
    ["a validation error", "{ nope }", "GRAPHQL_VALIDATION_FAILED"],
  ])("answers %s with 400", async (_name, query, code) => {
    const { res, json } = await post(
      t,
      { accept: "application/graphql-response+json" },
      JSON.stringify({ query }),
    );
    expect(res.status).toBe(400);
    expect(json.data).toBeUndefined();
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual([code]);
  });

  it("answers malformed JSON with a JSON 400, never HTML", async () => {
    const { res, json } = await post(t, {}, '{"query": "{ __typename }"');
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(json).toEqual({
      errors: [
        { message: "expected a JSON request body, got malformed JSON", extensions: { code: "BAD_REQUEST" } },
      ],
    });
  });

  it("blocks a simple (CSRF-able) request: a GET without a preflight header", async () => {
    const res = await t.fetch({ method: "GET", headers: {}, ...{} });
    // Apollo's CSRF prevention runs before the operation (there is none here): a JSON 400.
    expect(res.status).toBe(400);
    const url = `${t.url}?query=${encodeURIComponent("{ __typename }")}`;
    const get = await fetch(url, { headers: t.bearer(t.dccKey) });
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await fetch(url, {
      headers: { ...t.bearer(t.dccKey), "apollo-require-preflight": "1" },
    });
    expect(preflighted.status).toBe(200);
  });

  it("answers a text/plain POST (a CSRF form post) with a JSON 400, not a 500", async () => {
    const { res, json } = await post(t, { "content-type": "text/plain" }, JSON.stringify({ query: Q }));
    expect(res.status).toBe(400);
    expect(json.errors!.length).toBe(1);
  });

  it("keeps introspection on in development", async () => {
    const { json } = await post(t, {}, JSON.stringify({ query: "{ __schema { queryType { name } } }" }));
    expect(json).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });
});

describe("production mode (NODE_ENV=production)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: "production" });
  });
  afterAll(async () => t.close());

  it("masks an unexpected error: no SQL, stack frame, host or internal message", async () => {
    // Break the database under the server: the resolver's SQL fails.
    await t.app.ds.query("ALTER TABLE meter_point RENAME TO meter_point_moved");
    try {
      const { res, text, json } = await post(t, {});
      expect(res.status).toBe(200);
      expect(json).toEqual({
        data: { meterPoint: null },
        errors: [
          {
            message: "Internal server error",
            locations: [{ line: 1, column: 3 }],
            path: ["meterPoint"],
            extensions: { code: "INTERNAL_SERVER_ERROR" },
          },
        ],
      });
      for (const leak of [
        "meter_point",
        "SELECT",
        "relation",
        "at ",
        "127.0.0.1",
        "stacktrace",
        "QueryFailedError",
      ]) {
        expect(text).not.toContain(leak);
      }
    } finally {
      await t.app.ds.query("ALTER TABLE meter_point_moved RENAME TO meter_point");
    }
  });

  it('gives no "Did you mean" suggestions', async () => {
    const field = await post(t, {}, JSON.stringify({ query: `{ meterPoint(mpxn: "1") { serviceFlg } }` }));
    expect(field.res.status).toBe(400);
    expect(field.text).not.toMatch(/Did you mean/);
    const enumValue = await post(
      t,
      {},
      JSON.stringify({
        query: `query($f: MeterPointFilter) { meterPointsConnection(filter: $f) { edges { cursor } } }`,
        variables: { f: { fuel: "ELECTRICTY" } },
      }),
    );
    expect(enumValue.json.errors!.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(enumValue.text).not.toMatch(/Did you mean|ELECTRICITY/);
  });

  it("turns introspection off by default", async () => {
    const { json } = await post(t, {}, JSON.stringify({ query: "{ __schema { queryType { name } } }" }));
    expect(json.data).toBeUndefined();
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
  });

  it("keeps public error messages (they describe the client's own input)", async () => {
    const { json } = await post(
      t,
      {},
      JSON.stringify({ query: `{ meterPoint(mpxn: "1312345678900") { mpxn } }` }),
    );
    expect(json.errors!.map((e) => e.extensions?.code)).toEqual(["INVALID_MPXN"]);
    expect(JSON.stringify(json)).not.toContain("stacktrace");
  });
});
