import { openFlowsApp } from "./flowEvents";

describe("FlowFiles migration and entities", () => {
  it("agree: TypeORM's schema diff has nothing to change in the flow tables", async () => {
    const t = await openFlowsApp();
    try {
      const sql = await t.app.ds.driver.createSchemaBuilder().log();
      const flowStatements = sql.upQueries
        .map((q) => q.query)
        .filter((q) => /"flow_|flow_(file|recipient|sent)/.test(q));
      expect(flowStatements).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
