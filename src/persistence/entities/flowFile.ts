import { Column, Entity, Index, PrimaryColumn } from "typeorm";

/*
 * Registration update file state (SPEC §7). Tables are created by migrations/1764200000000-FlowFiles.ts;
 * names here match its constraints and indexes.
 */

@Entity({ name: "flow_recipient" })
export class FlowRecipientEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_recipient_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_recipient_pk" }) flow!: string;
  @Column({ type: "bigint", default: 0 }) horizon!: string;
  @Column({ name: "last_file_id", type: "integer", default: 0 }) lastFileId!: number;
}

@Entity({ name: "flow_file" })
@Index("flow_file_prepared_idx", ["preparedAt"])
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
}

@Entity({ name: "flow_file_record" })
export class FlowFileRecordEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_file_record_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_file_record_pk" }) flow!: string;
  @PrimaryColumn({ name: "file_id", type: "integer", primaryKeyConstraintName: "flow_file_record_pk" })
  fileId!: number;
  @PrimaryColumn({ name: "line_no", type: "integer", primaryKeyConstraintName: "flow_file_record_pk" })
  lineNo!: number;
  @Column({ type: "text" }) mpxn!: string;
  @Column({ type: "char", length: 1 }) flag!: string;
  /** YYYYMMDD, the Europe/London calendar date of the flag's effective time. */
  @Column({ name: "effective_date", type: "text" }) effectiveDate!: string;
}

@Entity({ name: "flow_sent_flag" })
export class FlowSentFlagEntity {
  @PrimaryColumn({ name: "network_operator", type: "text", primaryKeyConstraintName: "flow_sent_flag_pk" })
  networkOperator!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_sent_flag_pk" }) flow!: string;
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "flow_sent_flag_pk" }) mpxn!: string;
  @Column({ type: "char", length: 1 }) flag!: string;
  @Column({ name: "file_id", type: "integer" }) fileId!: number;
}

export const FLOW_ENTITIES = [FlowRecipientEntity, FlowFileEntity, FlowFileRecordEntity, FlowSentFlagEntity];
