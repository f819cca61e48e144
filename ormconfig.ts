import { createDataSource } from "./src/persistence/dataSource";

/**
 * The TypeORM data source for TypeORM's own CLI (`npm run typeorm -- migration:show`,
 * `migration:generate` to review a diff). Needs DATABASE_URL.
 */
export const AppDataSource = createDataSource({
  url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
});
