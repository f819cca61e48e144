const { Client } = require("pg");

module.exports = async function globalTeardown() {
  const admin = new Client({ connectionString: process.env.SMI_TEST_ADMIN_URL });
  await admin.connect();
  const r = await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'smi_test_%'");
  for (const { datname } of r.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  await admin.end();
  if (globalThis.__SMI_EMBEDDED__) await globalThis.__SMI_EMBEDDED__.stop();
};
