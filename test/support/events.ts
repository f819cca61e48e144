import { type TestApp } from "./harness";

/** NDJSON spelling → GraphQL enum name: DeviceStatusChanged → DEVICE_STATUS_CHANGED. */
export const toEnumName = (s: string) => s.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/** An NDJSON-style event as a GraphQL EventInput. */
export function toEventInput(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...e };
  for (const k of ["type", "status", "role"])
    if (typeof out[k] === "string") out[k] = toEnumName(out[k] as string);
  return out;
}

export const APPLY_EVENTS = `
  mutation Apply($events: [EventInput!]!) {
    applyEvents(events: $events) {
      applied duplicates
      rejected { eventId index code message }
      transitions { sequence mpxn from to effectiveAt recordedAt causeEventId networkOperator }
    }
  }`;

export interface ApplyResult {
  applied: number;
  duplicates: number;
  rejected: { eventId: string; index: number; code: string; message: string }[];
  transitions: {
    sequence: string;
    mpxn: string;
    from: string | null;
    to: string | null;
    effectiveAt: string;
    causeEventId: string;
    networkOperator: string | null;
  }[];
}

/** Applies NDJSON-style events through the GraphQL mutation, in chunks of the mutation's bound. */
export async function applyEvents(
  t: TestApp,
  events: Record<string, unknown>[],
  headers?: Record<string, string>,
): Promise<ApplyResult> {
  const total: ApplyResult = { applied: 0, duplicates: 0, rejected: [], transitions: [] };
  for (let i = 0; i < events.length; i += 1000) {
    const { body } = await t.gql<{ applyEvents: ApplyResult }>(
      APPLY_EVENTS,
      { events: events.slice(i, i + 1000).map(toEventInput) },
      headers,
    );
    if (body.errors) throw new Error(`applyEvents failed: ${JSON.stringify(body.errors)}`);
    const r = body.data!.applyEvents;
    total.applied += r.applied;
    total.duplicates += r.duplicates;
    total.rejected.push(...r.rejected.map((x) => ({ ...x, index: x.index + i })));
    total.transitions.push(...r.transitions);
  }
  return total;
}
