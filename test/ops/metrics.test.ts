import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { Metrics, OTHER_OPERATION } from "../../src/observability/metrics";
import { applyEvents } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

const MPAN = "1312345678907";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";

/** Parses the Prometheus text format into `name{labels}` → value (HELP/TYPE lines dropped). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe("/metrics", () => {
  let t: TestApp;
  const scrape = async () => {
    const res = await fetch(new URL("/metrics", t.url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it("counts events applied and rejected and transitions recorded, once per committed batch", async () => {
    const r = await applyEvents(t, [
      { eventId: "m1", occurredAt: "2026-03-01T09:00:00Z", type: "MeterPointRegistered", mpxn: MPAN },
      {
        eventId: "m2",
        occurredAt: "2026-03-01T09:01:00Z",
        type: "DeviceRegistered",
        deviceId: DEV,
        deviceType: "ESME",
      },
      {
        eventId: "m3",
        occurredAt: "2026-03-01T09:02:00Z",
        type: "DeviceAssociated",
        deviceId: DEV,
        mpxn: MPAN,
      },
      {
        eventId: "m4",
        occurredAt: "2026-03-01T09:03:00Z",
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Commissioned",
      },
      {
        eventId: "m5",
        occurredAt: "2026-03-01T09:04:00Z",
        type: "DeviceStatusChanged",
        deviceId: DEV,
        status: "Decommissioned",
      },
      {
        eventId: "bad",
        occurredAt: "2026-03-01T09:05:00Z",
        type: "MeterPointRegistered",
        mpxn: "1312345678900",
      },
    ]);
    expect(r.applied).toBe(5);
    expect(r.rejected.map((x) => x.code)).toEqual(["INVALID_MPXN"]);
    // Sent again: all duplicates, the invalid one rejected again.
    await applyEvents(t, [
      { eventId: "m1", occurredAt: "2026-03-01T09:00:00Z", type: "MeterPointRegistered", mpxn: MPAN },
      {
        eventId: "bad",
        occurredAt: "2026-03-01T09:05:00Z",
        type: "MeterPointRegistered",
        mpxn: "1312345678900",
      },
    ]);

    const m = await scrape();
    expect(m.get("smi_events_applied_total")).toBe(5);
    expect(m.get("smi_events_duplicate_total")).toBe(1);
    expect(m.get('smi_events_rejected_total{code="INVALID_MPXN"}')).toBe(2);
    expect(m.get('smi_transitions_recorded_total{from="NULL",to="A"}')).toBe(1);
    expect(m.get('smi_transitions_recorded_total{from="A",to="N"}')).toBe(1);
  });

  it("records each operation's latency by name and type, and errors by their public code", async () => {
    const before = await scrape();
    const count = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
    await t.gql(`query FlagOf { meterPoint(mpxn: "${MPAN}") { serviceFlag } }`);
    await t.gql(`query FlagOf { meterPoint(mpxn: "${MPAN}") { serviceFlag } }`);
    await t.gql(`{ serviceFlagCounts { serviceFlag count } }`);
    const invalid = await t.gql(`query Bad { meterPoint(mpxn: "1312345678900") { serviceFlag } }`);
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe("INVALID_MPXN");
    const syntax = await t.gql(`query Broken { meterPoint(`);
    expect(syntax.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const noKey = await t.gql(`{ serviceFlagCounts { count } }`, undefined, { authorization: "" });
    expect(noKey.status).toBe(401);
    const m = await scrape();

    const hist = (op: string, type: string) =>
      count(m, `smi_graphql_request_duration_seconds_count{operation="${op}",type="${type}"}`) -
      count(before, `smi_graphql_request_duration_seconds_count{operation="${op}",type="${type}"}`);
    expect(hist("FlagOf", "query")).toBe(2);
    expect(hist("__anonymous", "query")).toBe(1);
    expect(hist("Bad", "query")).toBe(1);
    expect(hist("__unresolved", "unknown")).toBe(1);
    // The histogram has buckets, and the +Inf bucket holds every observation.
    expect(
      m.get('smi_graphql_request_duration_seconds_bucket{le="+Inf",operation="FlagOf",type="query"}'),
    ).toBe(m.get('smi_graphql_request_duration_seconds_count{operation="FlagOf",type="query"}'));

    const errs = (code: string) =>
      count(m, `smi_graphql_errors_total{code="${code}"}`) -
      count(before, `smi_graphql_errors_total{code="${code}"}`);
    expect(errs("INVALID_MPXN")).toBe(1);
    expect(errs("GRAPHQL_PARSE_FAILED")).toBe(1);
    expect(errs("UNAUTHENTICATED")).toBe(1);
  });

  it("reports the database pool's use and the process's own metrics", async () => {
    const m = await scrape();
    expect(m.get('smi_db_pool_connections{pool="primary",state="max"}')).toBe(t.app.config.DB_POOL_SIZE);
    const total = m.get('smi_db_pool_connections{pool="primary",state="total"}')!;
    expect(total).toBeGreaterThanOrEqual(1);
    expect(
      m.get('smi_db_pool_connections{pool="primary",state="idle"}')! +
        m.get('smi_db_pool_connections{pool="primary",state="in_use"}')!,
    ).toBe(total);
    expect(m.get('smi_db_pool_connections{pool="primary",state="waiting"}')).toBe(0);
    expect(m.has("smi_process_resident_memory_bytes")).toBe(true);
  });

  it("counts the subscriptions open on the instance", async () => {
    expect((await scrape()).get("smi_subscriptions_active")).toBe(0);
    const client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.dccKey}` },
      retryAttempts: 0,
    });
    try {
      // Replay from the start: the first transition arriving proves the subscription is registered.
      const first = await new Promise<unknown>((resolve, reject) => {
        client.subscribe(
          { query: `subscription { serviceFlagChanged(after: "0") { sequence } }` },
          { next: resolve, error: reject, complete: () => resolve("completed without a result") },
        );
      });
      expect(first).toMatchObject({ data: { serviceFlagChanged: { sequence: expect.any(String) } } });
      const m = await scrape();
      expect(m.get("smi_subscriptions_active")).toBe(1);
      expect(m.get("smi_subscription_feed_connected")).toBe(1);
      const [high] = (await t.app.ds.query(
        "SELECT max(sequence)::int AS s FROM service_flag_transition",
      )) as {
        s: number;
      }[];
      // The feed has read at least the transition just replayed; never beyond what exists.
      expect(m.get("smi_subscription_feed_position")).toBeLessThanOrEqual(high!.s);
    } finally {
      await client.dispose();
    }
  });
});

describe("Metrics", () => {
  it("bounds the operation-name label: names past the limit, and odd names, count as __other", async () => {
    const m = new Metrics({ maxOperationNames: 2 });
    m.observeOperation("A", "query", 0.01);
    m.observeOperation("B", "query", 0.01);
    m.observeOperation("C", "query", 0.01);
    m.observeOperation("A", "query", 0.01);
    m.observeOperation("not a name; drop table", "query", 0.01);
    const parsed = parseMetrics(await m.render());
    const c = (op: string) =>
      parsed.get(`smi_graphql_request_duration_seconds_count{operation="${op}",type="query"}`);
    expect([c("A"), c("B"), c("C"), c(OTHER_OPERATION)]).toEqual([2, 1, undefined, 2]);
  });
});
