import { Check, Column, Entity, PrimaryGeneratedColumn, Unique } from "typeorm";

/** `api_key`: created by migrations/1764100000000-ApiKeys.ts; constraint names match it. */
@Entity({ name: "api_key" })
@Unique("api_key_hash_uq", ["keyHash"])
@Check("api_key_hash_ck", `key_hash ~ '^[0-9a-f]{64}$'`)
@Check("api_key_role_ck", `role IN ('COMPARISON_SITE', 'SUPPLIER', 'NETWORK_OPERATOR', 'DCC')`)
@Check("api_key_party_ck", `role NOT IN ('SUPPLIER', 'NETWORK_OPERATOR') OR party IS NOT NULL`)
export class ApiKeyEntity {
  @PrimaryGeneratedColumn("uuid", { primaryKeyConstraintName: "api_key_pk" }) id!: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  @Column({ name: "key_hash", type: "text" }) keyHash!: string;
  @Column({ type: "text" }) role!: string;
  @Column({ type: "text", nullable: true }) party!: string | null;
  @Column({ type: "text", nullable: true }) label!: string | null;
  @Column({ name: "created_at", type: "timestamptz", default: () => "now()" }) createdAt!: Date;
  @Column({ name: "revoked_at", type: "timestamptz", nullable: true }) revokedAt!: Date | null;
}
