import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from "typeorm";
import { FLOW_ENTITIES } from "./flowFile";
import { ApiKeyEntity } from "./ApiKeyEntity";

/*
 * TypeORM entities: the shape of the tables for TypeORM's CLI and for typed access. They are not
 * GraphQL types (those live in src/graphql/types). The tables themselves are created by the
 * hand-written migrations in migrations/; names here match those constraints and indexes.
 */

@Entity({ name: "meter_point" })
export class MeterPointEntity {
  @PrimaryColumn({ type: "text", primaryKeyConstraintName: "meter_point_pk" }) mpxn!: string;
  @Column({ type: "text" }) fuel!: string;
  @Column({ name: "network_operator", type: "text", nullable: true }) networkOperator!: string | null;
  @Column({ type: "text", nullable: true }) supplier!: string | null;
  @Column({ name: "service_flag", type: "char", length: 1, nullable: true }) serviceFlag!: string | null;
  @Column({ name: "flag_effective_at", type: "timestamptz", nullable: true }) flagEffectiveAt!: Date | null;
  @Column({ name: "registered_at", type: "timestamptz" }) registeredAt!: Date;
  @Column({ name: "last_event_at", type: "timestamptz" }) lastEventAt!: Date;
}

@Entity({ name: "device" })
export class DeviceEntity {
  @PrimaryColumn({ name: "device_id", type: "text", primaryKeyConstraintName: "device_pk" })
  deviceId!: string;
  @Column({ name: "device_type", type: "text" }) deviceType!: string;
  @Column({ type: "text", nullable: true }) smets!: string | null;
  @Column({ type: "text", nullable: true }) manufacturer!: string | null;
  @Column({ type: "text", nullable: true }) model!: string | null;
  @Column({ name: "firmware_version", type: "text", nullable: true }) firmwareVersion!: string | null;
  @Column({ type: "text" }) status!: string;
  @Column({ name: "status_effective_at", type: "timestamptz" }) statusEffectiveAt!: Date;
  @Column({ name: "effective_status", type: "text", nullable: true }) effectiveStatus!: string | null;
  @Column({ name: "last_event_at", type: "timestamptz" }) lastEventAt!: Date;
}

@Entity({ name: "device_status_change" })
export class DeviceStatusChangeEntity {
  @PrimaryColumn({ name: "device_id", type: "text", primaryKeyConstraintName: "device_status_change_pk" })
  deviceId!: string;
  @PrimaryGeneratedColumn("identity", { type: "bigint", primaryKeyConstraintName: "device_status_change_pk" })
  id!: string;
  @Column({ type: "text" }) status!: string;
  @Column({ name: "effective_status", type: "text", nullable: true }) effectiveStatus!: string | null;
  @Column({ name: "occurred_at", type: "timestamptz" }) occurredAt!: Date;
  @Column({ name: "event_id", type: "text" }) eventId!: string;
  @Column({ name: "recorded_at", type: "timestamptz", default: () => "now()" }) recordedAt!: Date;
}

@Entity({ name: "device_association" })
export class DeviceAssociationEntity {
  @PrimaryColumn({ name: "device_id", type: "text", primaryKeyConstraintName: "device_association_pk" })
  deviceId!: string;
  @PrimaryGeneratedColumn("identity", { type: "bigint", primaryKeyConstraintName: "device_association_pk" })
  id!: string;
  @Column({ type: "text" }) mpxn!: string;
  @Column({ type: "text" }) role!: string;
  @Column({ name: "begun_at", type: "timestamptz" }) begunAt!: Date;
  @Column({ name: "ended_at", type: "timestamptz", nullable: true }) endedAt!: Date | null;
  @Column({ name: "begin_event_id", type: "text" }) beginEventId!: string;
  @Column({ name: "end_event_id", type: "text", nullable: true }) endEventId!: string | null;
}

@Entity({ name: "service_flag_transition" })
export class ServiceFlagTransitionEntity {
  @PrimaryColumn({ type: "bigint", primaryKeyConstraintName: "service_flag_transition_pk" })
  sequence!: string;
  @Column({ type: "text" }) mpxn!: string;
  @Column({ type: "text" }) fuel!: string;
  @Column({ name: "network_operator", type: "text", nullable: true }) networkOperator!: string | null;
  @Column({ type: "text", nullable: true }) supplier!: string | null;
  @Column({ name: "from_flag", type: "char", length: 1, nullable: true }) fromFlag!: string | null;
  @Column({ name: "to_flag", type: "char", length: 1, nullable: true }) toFlag!: string | null;
  @Column({ type: "text" }) rule!: string;
  @Column({ name: "contributing_device_ids", type: "text", array: true }) contributingDeviceIds!: string[];
  @Column({ name: "effective_at", type: "timestamptz" }) effectiveAt!: Date;
  @Column({ name: "recorded_at", type: "timestamptz", default: () => "now()" }) recordedAt!: Date;
  @Column({ name: "cause_event_id", type: "text" }) causeEventId!: string;
  // xid8 is not among TypeORM's column types: declared as text for typing, created by the migration.
  @Column({ name: "tx_id", type: "text", default: () => "pg_current_xact_id()", select: false })
  txId!: string;
}

@Entity({ name: "applied_event" })
export class AppliedEventEntity {
  @PrimaryColumn({ name: "event_id", type: "text", primaryKeyConstraintName: "applied_event_pk" })
  eventId!: string;
  @Column({ name: "event_type", type: "text" }) eventType!: string;
  @Column({ name: "occurred_at", type: "timestamptz" }) occurredAt!: Date;
  @Column({ name: "applied_at", type: "timestamptz", default: () => "now()" }) appliedAt!: Date;
}

export const ENTITIES = [
  MeterPointEntity,
  DeviceEntity,
  DeviceStatusChangeEntity,
  DeviceAssociationEntity,
  ServiceFlagTransitionEntity,
  AppliedEventEntity,
  ApiKeyEntity,
  ...FLOW_ENTITIES,
];
