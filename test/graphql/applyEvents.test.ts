import { syntheticMpan } from "../../src/ingest/synthetic";
import { applyEvents } from "../support/events";
import { type TestApp, startTestApp } from "../support/harness";

const MPAN = "1312345678907";
const DEV = "BC-33-AC-FF-FE-FA-55-3D";
const at = (minute: number) => new Date(Date.parse("2026-03-01T09:00:00Z") + minute * 60_000).toISOString();

/** The SPEC §3 example stream. */
function exampleEvents(prefix: string, mpan = MPAN, dev = DEV) {
  return [
    { eventId: `${prefix}1`, occurredAt: at(0), type: "MeterPointRegistered", mpxn: mpan, supplier: "EDFE" },
    {
      eventId: `${prefix}2`,
      occurredAt: at(0),
      type: "MeterPointRegistered",
      mpxn: "1234567890",
      supplier: "BGAS",
      networkOperator: "NGN",
    },
    { eventId: `${prefix}3`, occurredAt: at(5), type: "SupplierChanged", mpxn: mpan, supplier: "OVOE" },
    {
      eventId: `${prefix}4`,
      occurredAt: at(10),
      type: "DeviceRegistered",
      deviceId: dev.toLowerCase(),
      deviceType: "ESME",
      smets: "SMETS2",
      manufacturer: "ACME",
      model: "X1",
      firmwareVersion: "1.0",
    },
    {
      eventId: `${prefix}5`,
      occurredAt: at(11),
      type: "DeviceAssociated",
      deviceId: dev,
      mpxn: mpan,
      role: "Import",
    },
    {
      eventId: `${prefix}6`,
      occurredAt: at(12),
      type: "DeviceStatusChanged",
      deviceId: dev,
      status: "Commissioned",
    },
    { eventId: `${prefix}7`, occurredAt: at(20), type: "DeviceDisassociated", deviceId: dev, mpxn: mpan },
  ];
}

describe("applyEvents (SPEC §3)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it("applies the example stream, recording null→A then A→N for one MPAN in one batch", async () => {
    const r = await applyEvents(t, exampleEvents("ex-"));
    expect(r).toMatchObject({ applied: 7, duplicates: 0, rejected: [] });
    expect(
      r.transitions.map((x) => [x.mpxn, x.from, x.to, x.causeEventId, x.effectiveAt, x.networkOperator]),
    ).toEqual([
      [MPAN, null, "A", "ex-6", "2026-03-01T09:12:00.000Z", "MANW"],
      [MPAN, "A", "N", "ex-7", "2026-03-01T09:20:00.000Z", "MANW"],
    ]);
    const { body } = await t.gql<{ meterPoint: Record<string, unknown> }>(
      `{ meterPoint(mpxn: "${MPAN}") { mpxn fuel supplier networkOperator serviceFlag serviceFlagEffectiveAt
          devices { deviceId } devices_all: devices(includeHistoric: true) { deviceId deviceType status smets model } } }`.replace(
        "devices_all: devices",
        "all: devices",
      ),
    );
    expect(body.data!.meterPoint).toEqual({
      mpxn: MPAN,
      fuel: "ELECTRICITY",
      supplier: "OVOE",
      networkOperator: "MANW",
      serviceFlag: "N",
      serviceFlagEffectiveAt: "2026-03-01T09:20:00.000Z",
      devices: [],
      all: [{ deviceId: DEV, deviceType: "ESME", status: "COMMISSIONED", smets: "SMETS2", model: "X1" }],
    });
  });

  it("re-applying a whole batch changes nothing: every event is a duplicate, no transition", async () => {
    const before = await t.app.ds.query("SELECT count(*)::int AS n FROM service_flag_transition");
    const r = await applyEvents(t, exampleEvents("ex-"));
    expect(r).toEqual({ applied: 0, duplicates: 7, rejected: [], transitions: [] });
    expect(await t.app.ds.query("SELECT count(*)::int AS n FROM service_flag_transition")).toEqual(before);
  });

  it("rejects bad events with code and message and loses none of their valid neighbours", async () => {
    const mpan = syntheticMpan(14, 777);
    const dev = "00-11-22-33-44-55-66-77";
    const r = await applyEvents(t, [
      { eventId: "n-1", occurredAt: at(100), type: "MeterPointRegistered", mpxn: mpan, supplier: "EDFE" },
      {
        eventId: "n-2",
        occurredAt: at(101),
        type: "MeterPointRegistered",
        mpxn: "1312345678901",
        supplier: "EDFE",
      },
      { eventId: "n-3", occurredAt: at(102), type: "DeviceRegistered", deviceId: dev, deviceType: "ESME" },
      {
        eventId: "n-4",
        occurredAt: at(103),
        type: "DeviceRegistered",
        deviceId: "not-a-device",
        deviceType: "ESME",
      },
      { eventId: "n-5", occurredAt: at(104), type: "DeviceAssociated", deviceId: dev, mpxn: mpan },
      {
        eventId: "n-6",
        occurredAt: at(105),
        type: "DeviceStatusChanged",
        deviceId: "99-99-99-99-99-99-99-99",
        status: "Commissioned",
      },
      {
        eventId: "n-7",
        occurredAt: at(50),
        type: "DeviceStatusChanged",
        deviceId: dev,
        status: "Commissioned",
      },
      {
        eventId: "n-8",
        occurredAt: at(106),
        type: "SupplierChanged",
        mpxn: syntheticMpan(14, 778),
        supplier: "OVOE",
      },
      { eventId: "n-9", occurredAt: at(107), type: "DeviceAssociated", deviceId: dev, mpxn: "1234567890" },
      {
        eventId: "n-10",
        occurredAt: at(108),
        type: "DeviceDisassociated",
        deviceId: dev,
        mpxn: syntheticMpan(14, 779),
      },
      { eventId: "n-11", occurredAt: at(109), type: "DeviceRegistered", deviceId: dev, deviceType: "GSME" },
      {
        eventId: "n-12",
        occurredAt: at(110),
        type: "DeviceStatusChanged",
        deviceId: dev,
        status: "Commissioned",
      },
    ]);
    expect(r.rejected.map((x) => [x.eventId, x.code])).toEqual([
      ["n-2", "INVALID_MPXN"],
      ["n-4", "INVALID_DEVICE_ID"],
      ["n-6", "UNKNOWN_DEVICE"],
      ["n-7", "STALE_EVENT"],
      ["n-8", "UNKNOWN_METER_POINT"],
      ["n-9", "INVALID_EVENT"],
      ["n-10", "INVALID_EVENT"],
      ["n-11", "INVALID_EVENT"],
    ]);
    expect(r.rejected.find((x) => x.eventId === "n-7")!.message).toMatch(
      /expected occurredAt at or after .* got 2026-03-01T09:50:00.000Z/,
    );
    expect(r.rejected.find((x) => x.eventId === "n-9")!.message).toMatch(/MPAN .* for ESME/);
    expect(r.applied).toBe(4);
    expect(r.transitions.map((x) => [x.mpxn, x.to, x.causeEventId])).toEqual([[mpan, "A", "n-12"]]);
  });

  it("lets a rejected event id be sent again, corrected", async () => {
    const r = await applyEvents(t, [
      {
        eventId: "n-8",
        occurredAt: at(120),
        type: "MeterPointRegistered",
        mpxn: syntheticMpan(14, 778),
        supplier: "OVOE",
      },
    ]);
    expect(r).toMatchObject({ applied: 1, duplicates: 0, rejected: [] });
  });

  it("treats equal occurredAt as not stale, and a status change to the current status as applied and silent", async () => {
    const mpan = syntheticMpan(15, 1);
    const dev = "00-11-22-33-44-55-66-88";
    const r = await applyEvents(t, [
      { eventId: "eq-1", occurredAt: at(200), type: "DeviceRegistered", deviceId: dev, deviceType: "ESME" },
      { eventId: "eq-2", occurredAt: at(200), type: "DeviceAssociated", deviceId: dev, mpxn: mpan },
      {
        eventId: "eq-3",
        occurredAt: at(200),
        type: "DeviceStatusChanged",
        deviceId: dev,
        status: "Commissioned",
      },
      {
        eventId: "eq-4",
        occurredAt: at(201),
        type: "DeviceStatusChanged",
        deviceId: dev,
        status: "Commissioned",
      },
      { eventId: "eq-5", occurredAt: at(202), type: "DeviceAssociated", deviceId: dev, mpxn: mpan },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.applied).toBe(5);
    expect(r.transitions.map((x) => x.causeEventId)).toEqual(["eq-3"]);
    // the implicit registration took fuel and network operator from the MPAN
    const { body } = await t.gql<{ meterPoint: { fuel: string; networkOperator: string } }>(
      `{ meterPoint(mpxn: "${mpan}") { fuel networkOperator } }`,
    );
    expect(body.data!.meterPoint).toEqual({ fuel: "ELECTRICITY", networkOperator: "NEEB" });
  });

  it("judges staleness by the events that name a device or MPxN: a device's status change does not name its meter points", async () => {
    const mpan = syntheticMpan(16, 1);
    const dev = "00-11-22-33-44-55-66-99";
    const r = await applyEvents(t, [
      { eventId: "st-1", occurredAt: at(300), type: "DeviceRegistered", deviceId: dev, deviceType: "ESME" },
      { eventId: "st-2", occurredAt: at(301), type: "DeviceAssociated", deviceId: dev, mpxn: mpan },
      {
        eventId: "st-3",
        occurredAt: at(310),
        type: "DeviceStatusChanged",
        deviceId: dev,
        status: "Commissioned",
      },
      // older than the status change, but the status change did not name the MPxN
      { eventId: "st-4", occurredAt: at(305), type: "SupplierChanged", mpxn: mpan, supplier: "EDFE" },
      // older than the device's latest event: stale
      { eventId: "st-5", occurredAt: at(305), type: "DeviceDisassociated", deviceId: dev, mpxn: mpan },
    ]);
    expect(r.rejected.map((x) => [x.eventId, x.code])).toEqual([["st-5", "STALE_EVENT"]]);
  });

  it("updates a known device's details but never its status, and a known meter point's supplier and operator", async () => {
    const r = await applyEvents(t, [
      {
        eventId: "up-1",
        occurredAt: at(400),
        type: "DeviceRegistered",
        deviceId: DEV,
        deviceType: "ESME",
        firmwareVersion: "2.0",
      },
      {
        eventId: "up-2",
        occurredAt: at(400),
        type: "MeterPointRegistered",
        mpxn: "1234567890",
        supplier: "OCTO",
        networkOperator: "CADENT",
      },
    ]);
    expect(r.rejected).toEqual([]);
    const { body } = await t.gql<{ device: unknown; meterPoint: unknown }>(
      `{ device(deviceId: "${DEV.toLowerCase()}") { deviceId status firmwareVersion model }
         meterPoint(mpxn: "1234567890") { fuel supplier networkOperator serviceFlag } }`,
    );
    expect(body.data).toEqual({
      device: { deviceId: DEV, status: "COMMISSIONED", firmwareVersion: "2.0", model: "X1" },
      meterPoint: { fuel: "GAS", supplier: "OCTO", networkOperator: "CADENT", serviceFlag: null },
    });
  });

  it("rejects fields that do not belong to the event type, naming them", async () => {
    const r = await applyEvents(t, [
      {
        eventId: "f-1",
        occurredAt: at(500),
        type: "SupplierChanged",
        mpxn: MPAN,
        supplier: "EDFE",
        status: "Commissioned",
      },
    ]);
    expect(r.rejected).toEqual([
      expect.objectContaining({
        eventId: "f-1",
        code: "INVALID_EVENT",
        message: expect.stringMatching(/field status does not belong/),
      }),
    ]);
  });

  it("bounds a batch at 1000 events with BAD_USER_INPUT", async () => {
    const events = Array.from({ length: 1001 }, (_, i) => ({
      eventId: `big-${i}`,
      occurredAt: at(600),
      type: "METER_POINT_REGISTERED",
      mpxn: "123456",
    }));
    const { body } = await t.gql(`mutation($e: [EventInput!]!) { applyEvents(events: $e) { applied } }`, {
      e: events,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(body.errors?.[0]?.message).toMatch(/at most 1000 .* got 1001/);
  });
});
