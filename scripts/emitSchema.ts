import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { lexicographicSortSchema, printSchema } from "graphql";
import { createSchema } from "../src/graphql/schema";

/**
 * Writes the contract file schema/schema.graphql from the code (`npm run schema`), or with `--check`
 * fails when the committed file differs from the code (`npm run lint`, CI).
 */
const file = path.resolve(__dirname, "../../schema/schema.graphql");
const sdl = `# Generated from the code by \`npm run schema\`. Do not edit: CI fails when it is stale.\n\n${printSchema(
  lexicographicSortSchema(createSchema()),
)}\n`;
if (process.argv.includes("--check")) {
  const committed = (() => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  })();
  if (committed !== sdl) {
    console.error("schema/schema.graphql is stale: run `npm run schema` and commit the result.");
    process.exit(1);
  }
  console.log("schema/schema.graphql is up to date");
} else {
  writeFileSync(file, sdl);
  console.log(`wrote ${file}`);
}
