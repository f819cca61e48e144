import { type RawEvent, syntheticDeviceId, syntheticMpan, syntheticMprn } from "./synthetic";

/**
 * The decision vectors of SPEC §2.3 as event histories, with the flags the spec requires.
 * Tests apply them end to end; the demo inventory includes them so every vector can be looked at.
 */
export interface DecisionVector {
  readonly id: number;
  readonly history: string;
  readonly events: RawEvent[];
  /** Expected flag per MPxN (null = NULL flag). */
  readonly expected: Record<string, "A" | "I" | "N" | null>;
  /** Event ids that must record no transition (vector 22). */
  readonly silentEventIds?: string[];
}

const BASE = Date.parse("2025-01-06T08:00:00Z");

export function buildDecisionVectors(prefix = "vec"): DecisionVector[] {
  const vectors: DecisionVector[] = [];
  const mpan = (v: number, k = 0) => syntheticMpan(13, 9_000_000_000 + v * 100 + k);
  const mprn = (v: number) => syntheticMprn(9_000_000 + v);
  const dev = (v: number, k: number, kind = 1) => syntheticDeviceId(0xdcc0000 + v * 256 + k, kind);

  function vector(
    id: number,
    history: string,
    script: (b: Builder) => void,
    expected: (b: Builder) => Record<string, "A" | "I" | "N" | null>,
  ) {
    const b = new Builder(`${prefix}-${id}`);
    script(b);
    vectors.push({ id, history, events: b.events, expected: expected(b), silentEventIds: b.silent });
  }

  class Builder {
    events: RawEvent[] = [];
    silent: string[] = [];
    private n = 0;
    constructor(private readonly idPrefix: string) {}
    private push(e: Omit<RawEvent, "eventId" | "occurredAt">): string {
      const eventId = `${this.idPrefix}-${++this.n}`;
      this.events.push({ eventId, occurredAt: new Date(BASE + this.n * 60_000).toISOString(), ...e });
      return eventId;
    }
    register(mpxn: string, supplier = "EDFE"): void {
      this.push({ type: "MeterPointRegistered", mpxn, supplier });
    }
    device(deviceId: string, deviceType = "ESME", model = "X1"): void {
      this.push({
        type: "DeviceRegistered",
        deviceId,
        deviceType,
        smets: "SMETS2",
        manufacturer: "ACME",
        model,
        firmwareVersion: "1.0",
      });
    }
    associate(deviceId: string, mpxn: string, role = "Import"): void {
      this.push({ type: "DeviceAssociated", deviceId, mpxn, role });
    }
    disassociate(deviceId: string, mpxn: string): void {
      this.push({ type: "DeviceDisassociated", deviceId, mpxn });
    }
    status(deviceId: string, ...statuses: string[]): string[] {
      return statuses.map((status) => this.push({ type: "DeviceStatusChanged", deviceId, status }));
    }
    /** Registered ESME on a registered MPAN, then the statuses. */
    esme(mpxn: string, deviceId: string, ...statuses: string[]): void {
      this.register(mpxn);
      this.device(deviceId);
      this.associate(deviceId, mpxn);
      this.status(deviceId, ...statuses);
    }
  }

  const single = (id: number, history: string, statuses: string[], flag: "A" | "I" | "N" | null) =>
    vector(
      id,
      history,
      (b) => b.esme(mpan(id), dev(id, 1), ...statuses),
      () => ({ [mpan(id)]: flag }),
    );

  single(1, "ESME Pending", [], null);
  single(2, "ESME Pending → Whitelisted", ["Whitelisted"], "I");
  single(3, "ESME Pending → InstalledNotCommissioned", ["InstalledNotCommissioned"], "I");
  single(4, "ESME … → Commissioned", ["InstalledNotCommissioned", "Commissioned"], "A");
  single(5, "ESME Commissioned → Suspended", ["Commissioned", "Suspended"], "A");
  single(6, "ESME Commissioned → Recovery → Recovered", ["Commissioned", "Recovery", "Recovered"], "A");
  single(7, "ESME Commissioned → Decommissioned", ["Commissioned", "Decommissioned"], "N");
  single(
    8,
    "ESME InstalledNotCommissioned → Decommissioned",
    ["InstalledNotCommissioned", "Decommissioned"],
    "N",
  );
  single(9, "ESME Pending → Decommissioned", ["Decommissioned"], null);
  single(
    10,
    "ESME Commissioned → Suspended → Decommissioned",
    ["Commissioned", "Suspended", "Decommissioned"],
    "N",
  );
  single(11, "ESME InstalledNotCommissioned → Suspended", ["InstalledNotCommissioned", "Suspended"], "I");
  single(12, "ESME Pending → Suspended", ["Suspended"], null);
  single(13, "ESME Commissioned → Withdrawn", ["Commissioned", "Withdrawn"], "N");

  const twoMeters = (b: Builder, v: number) => {
    b.register(mpan(v));
    b.device(dev(v, 1));
    b.device(dev(v, 2));
    b.associate(dev(v, 1), mpan(v));
    b.associate(dev(v, 2), mpan(v));
    b.status(dev(v, 1), "Commissioned");
    b.status(dev(v, 2), "InstalledNotCommissioned");
  };
  vector(
    14,
    "ESME#1 Commissioned + ESME#2 InstalledNotCommissioned",
    (b) => twoMeters(b, 14),
    () => ({ [mpan(14)]: "A" }),
  );
  vector(
    15,
    "14, then ESME#1 → Decommissioned",
    (b) => {
      twoMeters(b, 15);
      b.status(dev(15, 1), "Decommissioned");
    },
    () => ({ [mpan(15)]: "I" }),
  );
  vector(
    16,
    "15, then ESME#2 → Commissioned",
    (b) => {
      twoMeters(b, 16);
      b.status(dev(16, 1), "Decommissioned");
      b.status(dev(16, 2), "Commissioned");
    },
    () => ({ [mpan(16)]: "A" }),
  );
  vector(
    17,
    "ESME#1 Decommissioned (was Commissioned) + ESME#2 Pending",
    (b) => {
      b.register(mpan(17));
      b.device(dev(17, 1));
      b.device(dev(17, 2));
      b.associate(dev(17, 1), mpan(17));
      b.status(dev(17, 1), "Commissioned", "Decommissioned");
      b.associate(dev(17, 2), mpan(17));
    },
    () => ({ [mpan(17)]: "N" }),
  );
  vector(
    18,
    "GSME Commissioned; its GPF and CHF Decommissioned",
    (b) => {
      b.register(mprn(18), "BGAS");
      b.device(dev(18, 1), "GSME");
      b.device(dev(18, 2, 2), "GPF");
      b.device(dev(18, 3, 3), "CHF");
      b.associate(dev(18, 1), mprn(18));
      b.associate(dev(18, 2, 2), mprn(18));
      b.associate(dev(18, 3, 3), mprn(18));
      b.status(dev(18, 1), "Commissioned");
      b.status(dev(18, 2, 2), "Commissioned", "Decommissioned");
      b.status(dev(18, 3, 3), "Commissioned", "Decommissioned");
    },
    () => ({ [mprn(18)]: "A" }),
  );
  vector(
    19,
    "ESME Commissioned, associated with import X and export Y",
    (b) => {
      b.register(mpan(19, 0));
      b.register(mpan(19, 1));
      b.device(dev(19, 1));
      b.associate(dev(19, 1), mpan(19, 0), "Import");
      b.associate(dev(19, 1), mpan(19, 1), "Export");
      b.status(dev(19, 1), "Commissioned");
    },
    () => ({ [mpan(19, 0)]: "A", [mpan(19, 1)]: "A" }),
  );
  single(20, "ESME InstalledNotCommissioned → Pending", ["InstalledNotCommissioned", "Pending"], "N");
  vector(
    21,
    "ESME Commissioned on X, then disassociated from X and associated with Y",
    (b) => {
      b.esme(mpan(21, 0), dev(21, 1), "Commissioned");
      b.disassociate(dev(21, 1), mpan(21, 0));
      b.register(mpan(21, 1));
      b.associate(dev(21, 1), mpan(21, 1));
    },
    () => ({ [mpan(21, 0)]: "N", [mpan(21, 1)]: "A" }),
  );
  vector(
    22,
    "many meters of one model go Commissioned → Suspended (CPL removal)",
    (b) => {
      for (let k = 0; k < 25; k++) {
        b.register(mpan(22, k));
        b.device(dev(22, k), "ESME", "CPL-REMOVED-1");
        b.associate(dev(22, k), mpan(22, k));
        b.status(dev(22, k), "Commissioned");
      }
      for (let k = 0; k < 25; k++) b.silent.push(...b.status(dev(22, k), "Suspended"));
    },
    () => Object.fromEntries(Array.from({ length: 25 }, (_, k) => [mpan(22, k), "A" as const])),
  );
  return vectors;
}
