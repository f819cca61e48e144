import { Client } from "pg";
import { createTestDatabase } from "../support/harness";

/** An empty database (no migrations) on the test server; each call a new one. */
export const createEmptyDatabase = () => createTestDatabase({ migrated: false });

/** Runs `fn` with a connected pg client on `url`. */
export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
