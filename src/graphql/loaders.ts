import DataLoader from "dataloader";
import { type DeviceRow, type MeterPointRow, type TransitionRow } from "../persistence/inventoryStore";
import { type ReadStore, type StatusChangeRow } from "../persistence/readStore";

export interface AtKey {
  readonly mpxn: string;
  readonly at: Date;
}
const atKey = (k: AtKey) => `${k.mpxn}@${k.at.toISOString()}`;

/**
 * Request-scoped DataLoaders: every field that loads data goes through one, so an operation issues
 * one statement per loader (and per distinct argument set), whatever the size of its lists.
 * Built per request: no cache outlives the request, and no tenant ever sees another's cache.
 */
export class Loaders {
  readonly meterPoint: DataLoader<string, MeterPointRow | null>;
  readonly device: DataLoader<string, DeviceRow | null>;
  readonly meterPointsOfDevice: DataLoader<string, MeterPointRow[]>;
  readonly flagAt: DataLoader<AtKey, TransitionRow | null, string>;
  readonly devicesAt: DataLoader<AtKey, DeviceRow[], string>;
  private readonly parameterised = new Map<string, DataLoader<string, unknown>>();

  constructor(private readonly store: ReadStore) {
    this.meterPoint = new DataLoader((k) => store.meterPointsByMpxn(k));
    this.device = new DataLoader((k) => store.devicesById(k));
    this.meterPointsOfDevice = new DataLoader((k) => store.meterPointsOfDevices(k));
    this.flagAt = new DataLoader((k) => store.flagsAt(k), { cacheKeyFn: atKey });
    this.devicesAt = new DataLoader((k) => store.devicesAt(k), { cacheKeyFn: atKey });
  }

  /** One loader per distinct argument set (e.g. `first`/`after`), so differing pages still batch. */
  private loaderFor<V>(
    name: string,
    args: unknown[],
    batch: (keys: readonly string[]) => Promise<V[]>,
  ): DataLoader<string, V> {
    const key = `${name}:${JSON.stringify(args)}`;
    let l = this.parameterised.get(key) as DataLoader<string, V> | undefined;
    if (!l) {
      l = new DataLoader(batch);
      this.parameterised.set(key, l as DataLoader<string, unknown>);
    }
    return l;
  }

  devicesOfMeterPoint(historic: boolean): DataLoader<string, DeviceRow[]> {
    return this.loaderFor("devices", [historic], (k) => this.store.devicesOfMeterPoints(k, historic));
  }

  transitionsOf(after: string | null, limit: number, asOf: Date | null): DataLoader<string, TransitionRow[]> {
    return this.loaderFor("transitions", [after, limit, asOf], (k) =>
      this.store.transitionsOfMeterPoints(k, after, limit, asOf),
    );
  }

  statusHistoryOf(after: string | null, limit: number): DataLoader<string, StatusChangeRow[]> {
    return this.loaderFor("statusHistory", [after, limit], (k) =>
      this.store.statusHistoryOfDevices(k, after, limit),
    );
  }
}
