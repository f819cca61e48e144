import "reflect-metadata";
import { createDataSource } from "../../src/persistence/dataSource";
import { createTestDatabase } from "../support/harness";

/** The hand-written api_key migration and ApiKeyEntity describe the same table. */
describe("api_key table", () => {
  it("matches its entity: TypeORM's schema diff for api_key is empty", async () => {
    const db = await createTestDatabase();
    const ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    try {
      const log = await ds.driver.createSchemaBuilder().log();
      expect(log.upQueries.map((q) => q.query).filter((q) => /api_key/.test(q))).toEqual([]);
      // The database refuses a scoped role without a party, whatever writes the row.
      await expect(
        ds.query(`INSERT INTO api_key (key_hash, role) VALUES (repeat('a', 64), 'SUPPLIER')`),
      ).rejects.toThrow(/api_key_party_ck/);
      await expect(
        ds.query(`INSERT INTO api_key (key_hash, role) VALUES ('plaintext-key', 'DCC')`),
      ).rejects.toThrow(/api_key_hash_ck/);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
