import { openApp } from "../app";
import { type Config } from "../config";
import { seedInventory } from "../ingest/seedInventory";
import { type Logger } from "../logger";
import { ensureTransitionPartitions } from "../persistence/dataSource";
import { startServer } from "../graphql/server";
import { ensureDemoKeys, formatDemoKey } from "./keysDemo";

export const DEMO_METER_POINTS = 3000;
const PARTITION_CHECK_MS = 6 * 60 * 60 * 1000;

/**
 * `serve`: migrations, demo data when the embedded database is empty (or --demo), the server, and
 * a clean stop on SIGINT/SIGTERM (drain HTTP, close sockets, stop the embedded database).
 */
export async function runServe(config: Config, log: Logger, o: { demo: boolean }): Promise<void> {
  const app = await openApp(config, log, { readReplicas: true });
  try {
    const wantDemo = config.LOAD_DEMO ?? (app.embedded || o.demo);
    if (wantDemo) {
      const rows = (await app.ds.query("SELECT EXISTS (SELECT 1 FROM meter_point) AS any")) as {
        any: boolean;
      }[];
      if (!rows[0]?.any) {
        log.info({ meterPoints: DEMO_METER_POINTS }, "loading the demo inventory into an empty database");
        const s = await seedInventory(app.applier, {
          meterPoints: DEMO_METER_POINTS,
          batchSize: 2000,
          prefix: "demo",
          withDecisionVectors: true,
        });
        log.info(s, "demo inventory loaded");
      }
    }
    const server = await startServer(app, { port: config.PORT, host: config.HOST });
    // The transitions table's partitions, kept ahead of the sequence while the server runs for weeks
    // (start-up made them already, in migrate). Any instance may do it: the function takes a lock.
    const partitions = setInterval(() => {
      ensureTransitionPartitions(app.ds).then(
        (created) => created > 0 && log.info({ created }, "created transition partitions ahead"),
        (e: unknown) => log.warn({ err: e }, "making transition partitions ahead failed"),
      );
    }, PARTITION_CHECK_MS);
    partitions.unref();
    if (app.embedded) {
      // Demo keys only for the embedded database: see keysDemo.ts (kept in DATA_DIR, reused).
      const keys = await ensureDemoKeys(app, config.DATA_DIR);
      console.log(
        `demo API keys (send as 'Authorization: Bearer <key>'):\n${keys.map(formatDemoKey).join("\n")}`,
      );
    }
    console.log(`smi-gateway ready: ${server.url}`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        clearInterval(partitions);
        log.info({ signal }, "shutting down");
        server
          .stop()
          .catch((e: unknown) => log.error({ err: e }, "server stop failed"))
          .finally(resolve);
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
  } finally {
    await app.close();
  }
}
