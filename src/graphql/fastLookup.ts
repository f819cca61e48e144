import type express from "express";
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
} from "graphql";
import { type App } from "../app";
import { parseMpxn } from "../domain/identifiers";
import { resolveViewer } from "./auth";
import { type Viewer } from "./context";
import { LIMITS } from "./args";
import { type OperationLimits, checkOperationLimits } from "./protections";

/*
 * The hot path of SPEC §1's first user: a comparison site asking for the flag of one MPxN,
 * `query($m: ID!) { meterPoint(mpxn: $m) { mpxn fuel serviceFlag serviceFlagEffectiveAt } }`, or of
 * a list of them with `meterPoints(mpxns: $m)`.
 *
 * Through Apollo a single look-up costs about 1.3 ms of CPU (express routing, Apollo's request
 * pipeline and plugin hooks, type-graphql's resolver wrapping, a DataLoader, TypeORM's query
 * runner), for one primary-key read that PostgreSQL answers in a few tens of microseconds (issue 5
 * benchmark). This middleware answers exactly those operations directly, with the same checks,
 * and hands everything else to Apollo untouched:
 *
 * - Eligible documents are recognised once per distinct query text (a bounded cache): one query
 *   operation, no directives or fragments, one `meterPoint(mpxn: ...)` (no `asOf`) or
 *   `meterPoints(mpxns: ...)` field selecting only `mpxn`, `fuel`, `serviceFlag`,
 *   `serviceFlagEffectiveAt` and `__typename`, aliases allowed. The document must pass the schema's
 *   validation and the depth/cost limits (for a list, with this request's variables), as through
 *   Apollo.
 * - Access rules are the same: these four fields carry no `@Authorized` rule (every role may read
 *   them for every meter point, SPEC §5), so authentication (`resolveViewer`, the same cached key
 *   look-up) and the per-key rate limit are the whole of it. Both run here, in Apollo's order.
 * - Anything unusual falls through to Apollo, which then produces the response (and its error)
 *   exactly as before: an invalid MPxN anywhere in the list, an empty or too long list, a missing or
 *   non-string variable, a missing or unknown key, a rate-limited key, a database error. Only after
 *   the rate limit has been counted can a fall-through count a request twice (a database
 *   failure), which errs on the strict side.
 * - The answer is the JSON Apollo would send (same field order, same null for an unknown MPxN, the
 *   list in input order). `test/graphql/fastLookup.test.ts` compares the two paths byte for byte.
 */

const FIELDS = new Set(["mpxn", "fuel", "serviceFlag", "serviceFlagEffectiveAt", "__typename"]);
const CACHE_MAX = 500;

interface Plan {
  /** `meterPoint(mpxn)` or `meterPoints(mpxns)`. */
  readonly list: boolean;
  /** Response key of the root field (its alias, or the field's name). */
  readonly rootKey: string;
  /** The argument: a literal, or the name of the variable that carries it. */
  readonly mpxn: { literal: unknown } | { variable: string };
  readonly operationName: string | null;
  /** [response key, field name] of the selection, in order. */
  readonly selection: readonly (readonly [string, string])[];
  readonly document: DocumentNode;
}

const noDirectives = (n: { directives?: readonly unknown[] }) => !n.directives || n.directives.length === 0;

/** The plan for a query text, or null when it is not the simple look-up. */
export function planFlagLookup(schema: GraphQLSchema, limits: OperationLimits, query: string): Plan | null {
  let doc: DocumentNode;
  try {
    doc = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  if (doc.definitions.length !== 1) return null;
  const op = doc.definitions[0] as OperationDefinitionNode;
  if (op.kind !== Kind.OPERATION_DEFINITION || op.operation !== "query" || !noDirectives(op)) return null;
  if (op.selectionSet.selections.length !== 1) return null;
  const root = op.selectionSet.selections[0] as FieldNode;
  if (root.kind !== Kind.FIELD || !noDirectives(root)) return null;
  const list = root.name.value === "meterPoints";
  if (!list && root.name.value !== "meterPoint") return null;
  if (root.arguments?.length !== 1) return null;
  const arg = root.arguments[0]!;
  if (arg.name.value !== (list ? "mpxns" : "mpxn")) return null;
  let mpxn: Plan["mpxn"];
  if (arg.value.kind === Kind.VARIABLE) mpxn = { variable: arg.value.name.value };
  else if (!list && arg.value.kind === Kind.STRING) mpxn = { literal: arg.value.value };
  else if (list && arg.value.kind === Kind.LIST && arg.value.values.every((v) => v.kind === Kind.STRING)) {
    mpxn = { literal: arg.value.values.map((v) => (v.kind === Kind.STRING ? v.value : null)) };
  } else return null;
  if ((op.variableDefinitions?.length ?? 0) > ("variable" in mpxn ? 1 : 0)) return null;
  const selection: [string, string][] = [];
  for (const s of root.selectionSet?.selections ?? []) {
    if (s.kind !== Kind.FIELD || !FIELDS.has(s.name.value) || !noDirectives(s)) return null;
    if ((s.arguments?.length ?? 0) > 0 || s.selectionSet) return null;
    selection.push([s.alias?.value ?? s.name.value, s.name.value]);
  }
  if (selection.length === 0) return null;
  // What Apollo would refuse (a variable of the wrong type, a duplicate response key with another
  // field, the limits) is left to Apollo to refuse.
  if (validate(schema, doc).length > 0) return null;
  if (!list && checkOperationLimits(schema, doc, limits, {}).length > 0) return null;
  if (selection.some(([key], i) => selection.findIndex(([k]) => k === key) !== i)) return null;
  return {
    list,
    document: doc,
    rootKey: root.alias?.value ?? root.name.value,
    mpxn,
    operationName: op.name?.value ?? null,
    selection,
  };
}

const varName = (plan: Plan) => ("variable" in plan.mpxn ? plan.mpxn.variable : "");

export interface FastLookupStats {
  served: number;
}

/** Requests answered by the fast path in this process (tests read it to know which path answered). */
export const fastLookupStats: FastLookupStats = { served: 0 };

/**
 * Express middleware in front of Apollo's (after the JSON body parser). `rateLimit` is the same
 * per-key limiter the Apollo context uses.
 */
export function createFlagLookupFastPath(
  app: App,
  schema: GraphQLSchema,
  limits: OperationLimits,
  rateLimit: (viewer: Viewer) => Promise<void>,
  stats: FastLookupStats = fastLookupStats,
): express.RequestHandler {
  const plans = new Map<string, Plan | null>();
  const planOf = (query: string): Plan | null => {
    let plan = plans.get(query);
    if (plan === undefined) {
      plan = planFlagLookup(schema, limits, query);
      if (plans.size >= CACHE_MAX) plans.delete(plans.keys().next().value!);
      plans.set(query, plan);
    }
    return plan;
  };

  return (req, res, next) => {
    const body = req.body as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
    // JSON only: that is also what satisfies Apollo's CSRF prevention for a POST.
    if (req.method !== "POST" || !body || typeof body.query !== "string" || !req.is("application/json")) {
      return next();
    }
    // GraphQL over HTTP: a client that prefers application/graphql-response+json (or accepts neither)
    // gets Apollo's content negotiation; this path only answers as application/json. Same order as
    // Apollo's negotiation, so a tie (or no Accept header) means application/json.
    if (req.accepts(["application/json", "application/graphql-response+json"]) !== "application/json")
      return next();
    const plan = planOf(body.query);
    if (!plan) return next();
    if (body.operationName != null && body.operationName !== plan.operationName) return next();
    let raw: unknown;
    if ("literal" in plan.mpxn) raw = plan.mpxn.literal;
    else {
      const vars = body.variables;
      if (vars === null || typeof vars !== "object") return next();
      raw = (vars as Record<string, unknown>)[plan.mpxn.variable];
    }
    const raws = plan.list ? raw : [raw];
    if (!Array.isArray(raws) || raws.length === 0 || raws.length > LIMITS.maxMpxns) return next();
    const mpxns: string[] = [];
    for (const r of raws) {
      if (typeof r !== "string") return next();
      try {
        mpxns.push(parseMpxn(r).mpxn);
      } catch {
        return next(); // INVALID_MPXN, answered by Apollo
      }
    }
    // A list's cost depends on its length: the limits are checked with this request's variables.
    if (
      plan.list &&
      checkOperationLimits(schema, plan.document, limits, { [varName(plan)]: raws }).length > 0
    ) {
      return next();
    }
    const started = process.hrtime.bigint();
    void (async () => {
      try {
        const viewer = await resolveViewer(app, req.headers.authorization);
        await rateLimit(viewer);
      } catch {
        return next(); // UNAUTHENTICATED or RATE_LIMITED, answered by Apollo
      }
      let rows;
      try {
        rows = await app.readStore.meterPointsByMpxn(mpxns);
      } catch {
        return next();
      }
      const values = rows.map((row) => {
        if (!row) return null;
        const value: Record<string, unknown> = {};
        for (const [key, field] of plan.selection) {
          value[key] =
            field === "mpxn"
              ? row.mpxn
              : field === "fuel"
                ? row.fuel
                : field === "serviceFlag"
                  ? row.service_flag
                  : field === "serviceFlagEffectiveAt"
                    ? (row.flag_effective_at?.toISOString() ?? null)
                    : "MeterPoint";
        }
        return value;
      });
      stats.served++;
      // Apollo's answer carries `cache-control: no-store` (no cache hints): so does this one.
      res.status(200).type("application/json").setHeader("cache-control", "no-store");
      res.send(`${JSON.stringify({ data: { [plan.rootKey]: plan.list ? values : values[0] } })}\n`);
      app.metrics.observeOperation(
        plan.operationName,
        "query",
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    })().catch(next);
  };
}
