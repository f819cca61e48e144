/**
 * SQL statements per GraphQL operation for lists of 10, 100 and 500 meter points (SPEC §9): the
 * count must not grow with the list (DataLoader batching). The server runs in this process with
 * the counting logger (StatementCounter) on its data source, over an inventory seeded through the
 * ingest path; each operation runs once to warm per-key caches, then once counted. Also counts the
 * comparison site's flag look-up (`meterPoints` with flags only).
 */
import { loadConfig } from "../src/config";
import { openApp } from "../src/app";
import { Role } from "../src/domain/access";
import { seedInventory } from "../src/ingest/seedInventory";
import { createLogger } from "../src/logger";
import { StatementCounter } from "../src/persistence/dataSource";
import { startServer } from "../src/graphql/server";
import { type BenchEnv } from "./run";
import { createApiKey, createGraphQLClient } from "./support";

const FULL = `query($m: [ID!]!) {
  meterPoints(mpxns: $m) {
    mpxn serviceFlag networkOperator supplier
    flagExplanation { rule contributingDevices { deviceId status } }
    devices(includeHistoric: true) {
      deviceId status
      statusHistory(first: 5) { edges { node { status occurredAt } } }
      meterPoints { mpxn serviceFlag }
    }
    flagHistory(first: 10) { edges { node { sequence from to meterPoint { mpxn } } } pageInfo { hasNextPage } }
  }
}`;
const FLAGS = `query($m: [ID!]!) { meterPoints(mpxns: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`;

export async function run(env: BenchEnv): Promise<void> {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: "production",
    LOG_LEVEL: "silent",
    RATE_LIMIT_POINTS: "0",
  });
  const counter = new StatementCounter();
  const app = await openApp(config, createLogger("silent"), {
    databaseUrl: env.databaseUrl,
    counter,
    migrate: false,
  });
  try {
    const s = await seedInventory(app.applier, { meterPoints: 2000, batchSize: 5000, prefix: "stmt" });
    env.log(`seeded ${s.applied} events`);
    const rows: { mpxn: string }[] = await app.ds.query(
      "SELECT mpxn FROM meter_point WHERE service_flag IS NOT NULL ORDER BY mpxn LIMIT 500",
    );
    const mpxns = rows.map((r) => r.mpxn);
    const server = await startServer(app, { port: 0, host: "127.0.0.1" });
    const dcc = createGraphQLClient(server.url, await createApiKey(env.databaseUrl, Role.DCC), 1);
    const site = createGraphQLClient(
      server.url,
      await createApiKey(env.databaseUrl, Role.COMPARISON_SITE),
      1,
    );
    try {
      for (const [label, client, query] of [
        ["full picture (DCC)", dcc, FULL],
        ["flags only (comparison site)", site, FLAGS],
      ] as const) {
        for (const size of [10, 100, 500]) {
          const list = mpxns.slice(0, size);
          await client.post(query, { m: list });
          counter.reset();
          await client.post(query, { m: list });
          env.result(`${label}, ${size} meter points`, counter.count, "statements");
        }
      }
    } finally {
      dcc.close();
      site.close();
      await server.stop();
    }
  } finally {
    await app.close();
  }
}
