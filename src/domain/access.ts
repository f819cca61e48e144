/** API roles (SPEC §5). Stable wire values: they are stored in `api_key.role` and shown by the CLI. */
export enum Role {
  COMPARISON_SITE = "COMPARISON_SITE",
  SUPPLIER = "SUPPLIER",
  NETWORK_OPERATOR = "NETWORK_OPERATOR",
  DCC = "DCC",
}

const ROLES = new Set<string>(Object.values(Role));

/** Roles whose key is bound to a party (supplier id, network operator id) that scopes every read. */
export const SCOPED_ROLES: ReadonlySet<Role> = new Set([Role.SUPPLIER, Role.NETWORK_OPERATOR]);

/** What an API key grants: a role and, for scoped roles, the party it is scoped to. */
export interface Grant {
  readonly role: Role;
  readonly party: string | null;
}

/** A role and party that cannot make a key; the message says what was expected and what was got. */
export class InvalidGrantError extends Error {
  override readonly name = "InvalidGrantError";
}

/** Market participant ids and transporter codes: letters and digits, as in MPAS and UK Link. */
const PARTY = /^[A-Z0-9]{2,16}$/;

/**
 * Validates a role and party for a new key. A scoped role without a party is refused here (and by a
 * CHECK constraint), because a missing party must never widen what a key can read.
 */
export function parseGrant(role: unknown, party: unknown): Grant {
  if (typeof role !== "string" || !ROLES.has(role)) {
    throw new InvalidGrantError(
      `expected a role among ${[...ROLES].join(", ")}, got ${JSON.stringify(role)}`,
    );
  }
  const r = role as Role;
  if (party === undefined || party === null || party === "") {
    if (SCOPED_ROLES.has(r)) {
      throw new InvalidGrantError(
        `expected --party for role ${r} (${r === Role.SUPPLIER ? "supplier id, e.g. EDFE" : "network operator id, e.g. MANW"}), got nothing`,
      );
    }
    return { role: r, party: null };
  }
  if (typeof party !== "string" || !PARTY.test(party)) {
    throw new InvalidGrantError(
      `expected a party id of 2-16 upper-case letters or digits (e.g. EDFE, MANW, NGN), got ${JSON.stringify(party)}`,
    );
  }
  return { role: r, party };
}
