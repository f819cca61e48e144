import { type Command, InvalidArgumentError } from "commander";
import { type App } from "../app";
import { type Config } from "../config";
import { InvalidGrantError, Role, parseGrant } from "../domain/access";
import { type Logger } from "../logger";
import { type ApiKeyRecord, ApiKeyStore, UUID_PATTERN } from "../persistence/apiKeyStore";

type WithApp = <T>(config: Config, log: Logger, fn: (app: App) => Promise<T>) => Promise<T>;

const ROLE_NAMES = Object.values(Role).join(", ");

const roleArg = (v: string): Role => {
  const r = v.toUpperCase().replace(/-/g, "_");
  if (!(Object.values(Role) as string[]).includes(r)) {
    throw new InvalidArgumentError(`expected one of ${ROLE_NAMES}, got ${JSON.stringify(v)}`);
  }
  return r as Role;
};

const labelArg = (v: string): string => {
  if (v.length > 200 || [...v].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new InvalidArgumentError(
      `expected a label of at most 200 printable characters, got ${v.length} characters`,
    );
  }
  return v;
};

/** One key as a row of `keys list`. Never the key, never its hash. */
function formatRow(r: ApiKeyRecord): string[] {
  return [
    r.id,
    r.role,
    r.party ?? "-",
    r.label ?? "-",
    r.createdAt.toISOString(),
    r.revokedAt ? r.revokedAt.toISOString() : "-",
  ];
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * `keys create|list|revoke`: API keys (SPEC §5). Keys are stored as SHA-256 hashes only, so
 * `create` is the one time a key is ever shown: alone on the last line of standard output, for
 * scripts (`key=$(smi-gateway keys create ... | tail -1)`).
 */
export function registerKeyCommands(program: Command, config: Config, log: Logger, withApp: WithApp): void {
  const keys = program
    .command("keys")
    .description("manage API keys (stored as hashes; shown once, at creation)");

  keys
    .command("create")
    .description("create an API key and print it once, alone on the last line")
    .requiredOption("--role <role>", `one of ${ROLE_NAMES}`, roleArg)
    .option(
      "--party <id>",
      "supplier id (SUPPLIER) or network operator id (NETWORK_OPERATOR); required for those",
    )
    .option("--label <text>", "a note saying whose key it is", labelArg)
    .action(async (opts: { role: Role; party?: string; label?: string }, cmd: Command) => {
      let grant;
      try {
        grant = parseGrant(opts.role, opts.party?.toUpperCase());
      } catch (e) {
        if (e instanceof InvalidGrantError)
          cmd.error(`error: ${e.message}`, { exitCode: 2, code: "commander.keys" });
        throw e;
      }
      await withApp(config, log, async (app) => {
        const { key, record } = await new ApiKeyStore(app.ds).create(grant, opts.label ?? null);
        const who = record.party ? `${record.role} ${record.party}` : record.role;
        console.log(
          `created API key ${record.id} (${who}${record.label ? `, ${JSON.stringify(record.label)}` : ""})`,
        );
        console.log(
          "it is shown only now (only its hash is stored); send it as 'Authorization: Bearer <key>':",
        );
        console.log(key);
      });
    });

  keys
    .command("list")
    .description("list API keys (ids, roles, parties, labels, dates; never the keys)")
    .action(async () =>
      withApp(config, log, async (app) => {
        const records = await new ApiKeyStore(app.ds).list();
        if (records.length === 0) {
          console.log("no API keys");
          return;
        }
        console.log(
          formatTable([["ID", "ROLE", "PARTY", "LABEL", "CREATED", "REVOKED"], ...records.map(formatRow)]),
        );
      }),
    );

  keys
    .command("revoke")
    .description("revoke an API key by id (as shown by keys list); running servers refuse it within seconds")
    .argument("<id>", "key id (uuid)")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      if (!UUID_PATTERN.test(id)) {
        cmd.error(
          `error: expected a key id (a uuid, as shown by keys list), got ${JSON.stringify(id.slice(0, 60))}`,
          {
            exitCode: 2,
            code: "commander.keys",
          },
        );
      }
      await withApp(config, log, async (app) => {
        const record = await new ApiKeyStore(app.ds).revoke(id.toLowerCase());
        if (!record) cmd.error(`error: no API key has id ${id}`, { exitCode: 2, code: "commander.keys" });
        console.log(
          `revoked API key ${record!.id} (${record!.role}${record!.party ? ` ${record!.party}` : ""}) at ${record!.revokedAt!.toISOString()}`,
        );
      });
    });
}
