import { createHash, randomBytes } from "node:crypto";
import { type DataSource } from "typeorm";
import { type Grant, type Role } from "../domain/access";

/**
 * API keys: `smi_` followed by 32 random bytes in base64url (43 characters). The prefix lets secret
 * scanners and log filters recognise a key; the 256 random bits make a fast hash safe to store.
 */
export const API_KEY_PATTERN = /^smi_[A-Za-z0-9_-]{43}$/;

export function generateApiKey(): string {
  return `smi_${randomBytes(32).toString("base64url")}`;
}

/** The stored form of a key: SHA-256, hex. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** A key's record, without its hash (nothing that could authenticate ever leaves the store). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly role: Role;
  readonly party: string | null;
  readonly label: string | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  role: string;
  party: string | null;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = "id, role, party, label, created_at, revoked_at";
const toRecord = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  role: r.role as Role,
  party: r.party,
  label: r.label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class ApiKeyStore {
  constructor(private readonly ds: DataSource) {}

  /** Creates a key; the returned `key` is the only copy there will ever be. */
  async create(grant: Grant, label: string | null): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = generateApiKey();
    const rows: ApiKeyRow[] = await this.ds.query(
      `INSERT INTO api_key (key_hash, role, party, label) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [hashApiKey(key), grant.role, grant.party, label],
    );
    return { key, record: toRecord(rows[0]!) };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows: ApiKeyRow[] = await this.ds.query(`SELECT ${COLUMNS} FROM api_key ORDER BY created_at, id`);
    return rows.map(toRecord);
  }

  /** The key with this hash if it exists and is not revoked. */
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const rows: ApiKeyRow[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL`,
      [keyHash],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Revokes a key. Returns the record (with its revocation time, the first one if it was already
   * revoked), or null when no key has this id.
   */
  async revoke(id: string): Promise<ApiKeyRecord | null> {
    if (!UUID_PATTERN.test(id)) return null;
    const rows: ApiKeyRow[] = await this.ds.query(
      // As a CTE: TypeORM answers a bare UPDATE with [rows, count], a SELECT with its rows.
      `WITH u AS (UPDATE api_key SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS})
       SELECT * FROM u`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }
}
