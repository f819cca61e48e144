import "reflect-metadata";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Client } from "pg";

/** An App on a fresh database cloned from the migrated template. */
export { openTestApp } from "../support/harness";

export async function writeNdjson(
  file: string,
  lines: Iterable<string | Record<string, unknown>>,
): Promise<void> {
  const out = createWriteStream(file);
  for (const l of lines) {
    if (!out.write(typeof l === "string" ? `${l}\n` : `${JSON.stringify(l)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/**
 * The inventory's content, independent of how it was written: every table as text, without
 * surrogate ids, sequence numbers or recorded_at (which differ between equal runs). Transitions keep
 * their feed order (by sequence) but not the numbers.
 */
export const STATE_QUERIES: Record<string, string> = {
  meter_point: `SELECT mpxn, fuel, network_operator, supplier, service_flag, flag_effective_at, registered_at, last_event_at
                  FROM meter_point ORDER BY mpxn`,
  device: `SELECT device_id, device_type, smets, manufacturer, model, firmware_version, status, status_effective_at,
                  effective_status, last_event_at FROM device ORDER BY device_id`,
  device_status_change: `SELECT device_id, status, effective_status, occurred_at, event_id
                  FROM device_status_change ORDER BY device_id, id`,
  device_association: `SELECT device_id, mpxn, role, begun_at, ended_at, begin_event_id, end_event_id
                  FROM device_association ORDER BY device_id, mpxn, begun_at`,
  service_flag_transition: `SELECT mpxn, fuel, network_operator, supplier, from_flag, to_flag, rule,
                  contributing_device_ids, effective_at, cause_event_id FROM service_flag_transition ORDER BY sequence`,
  applied_event: `SELECT event_id, event_type, occurred_at FROM applied_event ORDER BY event_id`,
};

export interface TableDigest {
  rows: number;
  md5: string;
}

/**
 * Row count and md5 of the content of every inventory table. `transitions: "perMeterPoint"` orders
 * transitions by meter point, then feed order: for runs that may interleave the feed differently
 * across meter points (ingests of disjoint files at once) but never within one.
 */
export async function digestState(
  url: string,
  o: { transitions?: "feedOrder" | "perMeterPoint" } = {},
): Promise<Record<string, TableDigest>> {
  const queries = { ...STATE_QUERIES };
  if (o.transitions === "perMeterPoint") {
    queries.service_flag_transition = queries.service_flag_transition!.replace(
      "ORDER BY sequence",
      "ORDER BY mpxn, sequence",
    );
  }
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, TableDigest> = {};
    for (const [table, sql] of Object.entries(queries)) {
      const r = await c.query<{ rows: string; md5: string }>(
        `SELECT count(*)::text AS rows, md5(coalesce(string_agg(t::text, E'\\n'), '')) AS md5 FROM (${sql}) t`,
      );
      out[table] = { rows: Number(r.rows[0]!.rows), md5: r.rows[0]!.md5 };
    }
    return out;
  } finally {
    await c.end();
  }
}

export async function queryRows<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
