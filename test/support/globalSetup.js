// Jest global setup: one PostgreSQL for the whole run and a migrated template database that each
// test file clones (CREATE DATABASE ... TEMPLATE), so files are isolated and start fast.
// With DATABASE_URL set that server is used; without it an embedded PostgreSQL is started.
// Runs outside jest's sandbox, on the compiled code (`npm test` builds first).
const os = require("node:os");
const path = require("node:path");
const { mkdtempSync } = require("node:fs");
const { Client } = require("pg");
require("reflect-metadata");

const TEMPLATE = "smi_test_template";

module.exports = async function globalSetup() {
  const dist = path.resolve(__dirname, "../../dist/src");
  const { startEmbeddedPostgres } = require(`${dist}/persistence/embeddedPostgres.js`);
  const { createDataSource, migrate } = require(`${dist}/persistence/dataSource.js`);
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "smi-gateway-test-"));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const db = await startEmbeddedPostgres({ dataDir, port, database: "postgres", ephemeral: true });
    globalThis.__SMI_EMBEDDED__ = db;
    adminUrl = db.url;
  }
  process.env.SMI_TEST_ADMIN_URL = adminUrl;
  process.env.SMI_TEST_TEMPLATE = TEMPLATE;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${TEMPLATE}`;
  const ds = createDataSource({ url: u.toString(), poolSize: 2 });
  await ds.initialize();
  await migrate(ds);
  await ds.destroy();
};
