import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";

/*
 * Registration update file state (SPEC §7). Tables are created by migrations/1764200000000-FlowFiles.ts;
 * names and expressions here match its constraints and indexes (test/flows/flowSchema.test.ts checks
 * that TypeORM's schema diff is empty).
 */

@Entity({ name: "flow_recipient" })
@Check("flow_recipient_flow_ck", `flow IN ('D0350', 'E46')`)
@Check("flow_recipient_horizon_ck", `horizon >= 0`)
@Check("flow_recipient_last_file_id_ck", `last_file_id >= 0`)
export class FlowRecipientEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_recipient_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_recipient_pk" }) flow!: string;
  @Column({ type: "bigint", default: 0 }) horizon!: string;
  @Column({ name: "last_file_id", type: "integer", default: 0 }) lastFileId!: number;
}

@Entity({ name: "flow_file" })
@Index("flow_file_prepared_idx", ["preparedAt"])
@Index("flow_file_unsent_idx", ["networkOperator", "flow", "fileId"], { where: "sent_at IS NULL" })
@Check("flow_file_id_ck", `file_id >= 1`)
@Check("flow_file_count_ck", `record_count >= 1`)
@Check("flow_file_horizon_ck", `horizon_to >= horizon_from`)
export class FlowFileEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_file_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_file_pk" }) flow!: string;
  @PrimaryColumn({ name: "file_id", type: "integer", primaryKeyConstraintName: "flow_file_pk" })
  fileId!: number;
  @Column({ name: "file_name", type: "text" }) fileName!: string;
  @Column({ name: "horizon_from", type: "bigint" }) horizonFrom!: string;
  @Column({ name: "horizon_to", type: "bigint" }) horizonTo!: string;
  @Column({ name: "record_count", type: "integer" }) recordCount!: number;
  @Column({ name: "prepared_at", type: "timestamptz" }) preparedAt!: Date;
  @Column({ name: "sent_at", type: "timestamptz", nullable: true }) sentAt!: Date | null;
  @ManyToOne(() => FlowRecipientEntity, { nullable: false })
  @JoinColumn([
    {
      name: "network_operator",
      referencedColumnName: "networkOperator",
      foreignKeyConstraintName: "flow_file_recipient_fk",
    },
    { name: "flow", referencedColumnName: "flow", foreignKeyConstraintName: "flow_file_recipient_fk" },
  ])
  recipient?: FlowRecipientEntity;
}

@Entity({ name: "flow_sent_flag" })
@Check("flow_sent_flag_flag_ck", `flag IN ('A', 'I', 'N')`)
@Check("flow_sent_flag_date_ck", `effective_date ~ '^[0-9]{8}$'`)
@Index("flow_sent_flag_file_idx", ["networkOperator", "flow", "fileId", "mpxn"])
export class FlowSentFlagEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_sent_flag_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_sent_flag_pk" }) flow!: string;
  @PrimaryColumn({ type: "text", collation: "C", primaryKeyConstraintName: "flow_sent_flag_pk" })
  mpxn!: string;
  @Column({ type: "char", length: 1 }) flag!: string;
  /** YYYYMMDD, the Europe/London calendar date of the flag's effective time. */
  @Column({ name: "effective_date", type: "text" }) effectiveDate!: string;
  @Column({ name: "file_id", type: "integer" }) fileId!: number;
}

export const FLOW_ENTITIES = [FlowRecipientEntity, FlowFileEntity, FlowSentFlagEntity];
