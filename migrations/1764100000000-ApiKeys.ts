import { type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * API keys (SPEC §5).
 *
 * Reviewed by hand. Notes for reviewers:
 * - Only the SHA-256 of a key is stored (hex). Keys are 256-bit random values, so a fast unsalted hash
 *   is enough: there is nothing to brute-force, and a look-up by hash stays one index probe.
 * - A scoped role (SUPPLIER, NETWORK_OPERATOR) must name its party: a key without one could otherwise
 *   be read as "no restriction". The CHECK makes that impossible whatever writes the row.
 * - Revocation sets `revoked_at`; rows are never deleted, so `keys list` keeps the audit trail.
 */
export class ApiKeys1764100000000 implements MigrationInterface {
  name = "ApiKeys1764100000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_key (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        key_hash text NOT NULL,
        role text NOT NULL,
        party text,
        label text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT api_key_pk PRIMARY KEY (id),
        CONSTRAINT api_key_hash_uq UNIQUE (key_hash),
        CONSTRAINT api_key_hash_ck CHECK (key_hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT api_key_role_ck CHECK (role IN ('COMPARISON_SITE', 'SUPPLIER', 'NETWORK_OPERATOR', 'DCC')),
        CONSTRAINT api_key_party_ck CHECK (role NOT IN ('SUPPLIER', 'NETWORK_OPERATOR') OR party IS NOT NULL)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key`);
  }
}
