import { createRandom, type RawEvent, syntheticDeviceId, syntheticMpan, syntheticMprn } from "./synthetic";

/**
 * A realistic synthetic inventory, as events (SPEC §8 `seed`), generated lazily so millions of meter
 * points never sit in memory. Deterministic for a seed.
 *
 * The mix follows the industry's shape: about 55% of meter points electricity, 45% gas; every
 * distribution network and gas transporter; several suppliers (and supplier changes); SMETS1 and
 * SMETS2 meters with their GPF / communications hub; lifecycles with install-and-leave (I),
 * whitelisting (I), commissioning (A), removals and withdrawals (N), exchanges, export MPANs, CPL
 * suspensions and SMKI recovery (both still A); the rest never had a smart meter (null) or only a
 * Pending one. Roughly: A 57%, I 5%, N 3%, null 35% (the shape of GB's inventory, where about two
 * thirds of meters are smart and a few percent are installed-not-commissioned or removed).
 */
export interface SeedOptions {
  readonly meterPoints: number;
  readonly seed?: number;
  /**
   * Distinguishes separate populations: event ids start with it, and it picks the block of MPxNs and
   * device ids the population uses (one of 400 blocks of 20 million, by a hash of the prefix), so a
   * second prefix adds new meter points rather than colliding with the first. Same prefix + same
   * seed = same events (idempotent).
   */
  readonly prefix?: string;
  readonly start?: Date;
}

export const SEED_SUPPLIERS = ["BGAS", "EDFE", "OVOE", "EONN", "OCTO", "SSEN", "SPWR", "UTIL"] as const;
export const GAS_TRANSPORTERS = ["CADENT", "NGN", "SGN", "WWU"] as const;
const DISTRIBUTORS = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
const MODELS = [
  ["ACME", "X1", "SMETS2"],
  ["ACME", "X2", "SMETS2"],
  ["Landis", "E470", "SMETS2"],
  ["Secure", "Liberty100", "SMETS1"],
  ["Aclara", "SGM1412", "SMETS2"],
  ["EDMI", "ES-10A", "SMETS2"],
] as const;

/** Meter points per prefix block (MPxN and device numbering); exports use the block's top end. */
export const SEED_BLOCK = 20_000_000;
const SEED_BLOCKS = 400;

/** FNV-1a of the prefix → its block. */
export function seedBlockOf(prefix: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) h = Math.imul(h ^ prefix.charCodeAt(i), 0x01000193) >>> 0;
  return h % SEED_BLOCKS;
}

type Lifecycle =
  | "none"
  | "pending"
  | "whitelisted"
  | "installLeave"
  | "active"
  | "activeSuspended"
  | "smkiRecovered"
  | "exchange"
  | "removed"
  | "withdrawn";

function pickLifecycle(r: number): Lifecycle {
  if (r < 0.34) return "none";
  if (r < 0.35) return "pending";
  if (r < 0.36) return "whitelisted";
  if (r < 0.4) return "installLeave";
  if (r < 0.42) return "removed";
  if (r < 0.43) return "withdrawn";
  if (r < 0.46) return "exchange";
  if (r < 0.48) return "activeSuspended";
  if (r < 0.49) return "smkiRecovered";
  return "active";
}

export function* generateSeedEvents(o: SeedOptions): Generator<RawEvent> {
  const rnd = createRandom(o.seed ?? 77);
  const prefix = o.prefix ?? "seed";
  let t = (o.start ?? new Date("2024-01-01T00:00:00Z")).getTime();
  if (o.meterPoints > SEED_BLOCK / 2) {
    throw new RangeError(
      `expected at most ${SEED_BLOCK / 2} meter points per seed prefix, got ${o.meterPoints}`,
    );
  }
  const block = seedBlockOf(prefix);
  const base = block * SEED_BLOCK;
  let deviceSerial = block * 2 ** 32;
  let exportSerial = SEED_BLOCK / 2;
  for (let i = 0; i < o.meterPoints; i++) {
    let n = 0;
    const id = () => `${prefix}-${i}-${++n}`;
    const at = () => new Date((t += 1000)).toISOString();
    const gas = rnd() < 0.45;
    const mpxn = gas
      ? syntheticMprn(1_000_000_000 + base + i)
      : syntheticMpan(DISTRIBUTORS[i % DISTRIBUTORS.length]!, base + i);
    const supplier = SEED_SUPPLIERS[Math.floor(rnd() * SEED_SUPPLIERS.length)]!;
    const reg: RawEvent = { eventId: id(), occurredAt: at(), type: "MeterPointRegistered", mpxn, supplier };
    if (gas) reg.networkOperator = GAS_TRANSPORTERS[i % GAS_TRANSPORTERS.length]!;
    yield reg;
    if (rnd() < 0.1) {
      // A change of supplier some time after registration.
      yield {
        eventId: id(),
        occurredAt: at(),
        type: "SupplierChanged",
        mpxn,
        supplier: SEED_SUPPLIERS[Math.floor(rnd() * SEED_SUPPLIERS.length)]!,
      };
    }
    const lifecycle = pickLifecycle(rnd());
    if (lifecycle === "none") continue;

    const [manufacturer, model, smets] = MODELS[Math.floor(rnd() * MODELS.length)]!;
    const meterType = gas ? "GSME" : "ESME";
    const meter = (kind: number) => {
      const deviceId = syntheticDeviceId(++deviceSerial, kind);
      return deviceId;
    };
    const register = (deviceId: string, deviceType: string): RawEvent => ({
      eventId: id(),
      occurredAt: at(),
      type: "DeviceRegistered",
      deviceId,
      deviceType,
      smets,
      manufacturer,
      model,
      firmwareVersion: `${1 + Math.floor(rnd() * 3)}.${Math.floor(rnd() * 10)}`,
    });
    const associate = (deviceId: string, target: string, role = "Import"): RawEvent => ({
      eventId: id(),
      occurredAt: at(),
      type: "DeviceAssociated",
      deviceId,
      mpxn: target,
      role,
    });
    const status = (deviceId: string, s: string): RawEvent => ({
      eventId: id(),
      occurredAt: at(),
      type: "DeviceStatusChanged",
      deviceId,
      status: s,
    });

    const m1 = meter(1);
    yield register(m1, meterType);
    yield associate(m1, mpxn);
    if (gas) {
      // A gas installation brings its GPF (stored, never counted).
      const gpf = meter(2);
      yield register(gpf, "GPF");
      yield associate(gpf, mpxn);
      yield status(gpf, "Commissioned");
    } else if (smets === "SMETS2") {
      // A SMETS2 electricity installation brings its communications hub (stored, never counted).
      const chf = meter(3);
      yield register(chf, "CHF");
      yield associate(chf, mpxn);
      yield status(chf, "Commissioned");
    }
    switch (lifecycle) {
      case "pending":
        break;
      case "whitelisted":
        yield status(m1, "Whitelisted");
        break;
      case "installLeave":
        yield status(m1, "InstalledNotCommissioned");
        break;
      case "active":
      case "activeSuspended":
      case "smkiRecovered":
      case "exchange":
      case "removed":
      case "withdrawn":
        yield status(m1, "InstalledNotCommissioned");
        yield status(m1, "Commissioned");
        if (!gas && rnd() < 0.05) {
          // Solar export: the same ESME on an export MPAN.
          const exportMpan = syntheticMpan(DISTRIBUTORS[i % DISTRIBUTORS.length]!, base + ++exportSerial);
          yield { eventId: id(), occurredAt: at(), type: "MeterPointRegistered", mpxn: exportMpan, supplier };
          yield associate(m1, exportMpan, "Export");
        }
        if (lifecycle === "activeSuspended") yield status(m1, "Suspended"); // CPL removal
        if (lifecycle === "smkiRecovered") {
          yield status(m1, "Recovery");
          yield status(m1, "Recovered");
        }
        if (lifecycle === "removed") yield status(m1, "Decommissioned");
        if (lifecycle === "withdrawn") yield status(m1, "Withdrawn");
        if (lifecycle === "exchange") {
          const m2 = meter(1);
          yield register(m2, meterType);
          yield associate(m2, mpxn);
          yield status(m2, "Commissioned");
          yield status(m1, "Decommissioned");
          yield { eventId: id(), occurredAt: at(), type: "DeviceDisassociated", deviceId: m1, mpxn };
        }
        break;
    }
  }
}
