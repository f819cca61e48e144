import { createHash, randomUUID } from "node:crypto";
import { type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import express from "express";
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
import { REQUEST_ID_HEADER, parseRequestId } from "../observability/requestScope";
import { type MeterPointRow } from "../persistence/inventoryStore";
import type pg from "pg";
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
 * benchmark). This request listener, in front of the Express app, answers exactly those operations
 * directly, with the same checks, and hands everything else to Express and Apollo untouched:
 *
 * - Headers decide first: a POST to the GraphQL route with a JSON body of known length (no content
 *   coding, at most the body limit), an `Authorization` header, and an `Accept` that Express's own
 *   negotiation answers with application/json. Anything else goes to Express unread. A body read
 *   here and then handed on is given to the route's parser (`withPreReadBody`) as body-parser would
 *   have produced it, or with body-parser's error for it (malformed JSON: the same 400).
 * - The request's id (`X-Request-Id`, kept or new), its log line, its operation metric and the
 *   response headers are those of the Express path.
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
 *   list in input order), written once with its length. `test/graphql/fastLookup.test.ts` compares
 *   the two paths byte for byte. Flags are read from the database for every request, never cached.
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

/** Bodies the fast path read and then handed on (see `withPreReadBody`). */
const preRead = new WeakMap<IncomingMessage, { body: unknown } | { error: Error }>();

/**
 * Wraps the JSON body parser of the GraphQL route: a request whose body the fast path has already
 * read (and then handed on) gets that body, or the parser's own error for it, without reading again.
 */
export function withPreReadBody(parser: express.RequestHandler): express.RequestHandler {
  return (req, res, next) => {
    const read = preRead.get(req);
    if (!read) parser(req, res, next);
    else if ("error" in read) next(read.error);
    else {
      (req as { body: unknown }).body = read.body;
      next();
    }
  };
}

/** body-parser's JSON parse (strict, BOM stripped, empty body → {}); a failure is its error. */
function parseJsonBody(text: string): { body: unknown } | { error: Error } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return { body: {} };
  const first = /^[ \t\n\r]*(.)/s.exec(text)?.[1];
  try {
    if (first !== "{" && first !== "[") throw new SyntaxError(`Unexpected token ${first} in JSON`);
    return { body: JSON.parse(text) as unknown };
  } catch (e) {
    return {
      error: Object.assign(e as Error, { type: "entity.parse.failed", status: 400, statusCode: 400 }),
    };
  }
}

/** The columns the fast path reads. */
type FlagRow = Pick<MeterPointRow, "mpxn" | "fuel" | "service_flag" | "flag_effective_at">;

const FLAG_COLUMNS = "mpxn, fuel, service_flag, flag_effective_at";
const ONE = {
  name: "smi_fast_flag_one",
  text: `SELECT ${FLAG_COLUMNS} FROM meter_point WHERE mpxn = $1`,
};
const MANY = {
  name: "smi_fast_flag_many",
  text: `SELECT ${FLAG_COLUMNS} FROM meter_point WHERE mpxn = ANY($1::text[])`,
};

/**
 * The flag rows of `mpxns`, in input order (null for an unknown MPxN). Without read replicas: the
 * primary's pg pool directly, with named (prepared) statements of the four columns only, so that
 * PostgreSQL neither parses nor plans a look-up again on a connection that has run it before, and
 * no other column is read or decoded. Every statement is still reported to the DataSource's logger,
 * as TypeORM does (statement counts in tests and the `statements` benchmark stay true). With read
 * replicas: the read store, which routes to them (and falls back to the primary).
 *
 * Single look-ups that arrive together are coalesced: those queued while the event loop handles
 * one round of I/O are read with one statement when it ends (`setImmediate`), as a DataLoader does
 * within one operation, or, while COALESCED_IN_FLIGHT such statements are running, when one ends. Each read is still issued after its request arrived and reads the database
 * (no value is kept between statements), so a look-up sent after a commit sees it.
 */
/**
 * Coalesced single look-ups in flight at once: while they all are, new look-ups wait and go
 * together in the next statement (so batches grow with the load, and a quiet server answers
 * each look-up at once).
 */
const COALESCED_IN_FLIGHT = 4;

function flagReader(app: App): (mpxns: readonly string[]) => Promise<(FlagRow | null)[]> {
  if (app.replicas.length > 0) return (mpxns) => app.readStore.meterPointsByMpxn(mpxns);
  const pool = (app.ds.driver as unknown as { master: pg.Pool }).master;
  const read = async (mpxns: readonly string[]): Promise<Map<string, FlagRow>> => {
    const one = mpxns.length === 1;
    const values = one ? (mpxns as unknown[]) : [mpxns];
    app.ds.logger.logQuery(one ? ONE.text : MANY.text, values);
    const r = await pool.query<FlagRow>({ ...(one ? ONE : MANY), values });
    const byMpxn = new Map<string, FlagRow>();
    for (const row of r.rows) byMpxn.set(row.mpxn, row);
    return byMpxn;
  };
  interface Waiting {
    readonly mpxn: string;
    resolve(rows: (FlagRow | null)[]): void;
    reject(e: unknown): void;
  }
  let queued: Waiting[] = [];
  let scheduled = false;
  let inFlight = 0;
  const schedule = () => {
    if (!scheduled && queued.length > 0 && inFlight < COALESCED_IN_FLIGHT) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  function flush() {
    scheduled = false;
    while (queued.length > 0 && inFlight < COALESCED_IN_FLIGHT) {
      const batch = queued.length <= LIMITS.maxMpxns ? queued : queued.slice(0, LIMITS.maxMpxns);
      queued = batch === queued ? [] : queued.slice(LIMITS.maxMpxns);
      const mpxns = batch.length === 1 ? [batch[0]!.mpxn] : [...new Set(batch.map((w) => w.mpxn))];
      inFlight++;
      read(mpxns)
        .then(
          (byMpxn) => {
            for (const w of batch) w.resolve([byMpxn.get(w.mpxn) ?? null]);
          },
          (e: unknown) => {
            for (const w of batch) w.reject(e);
          },
        )
        .finally(() => {
          inFlight--;
          schedule();
        });
    }
  }
  return async (mpxns) => {
    if (mpxns.length !== 1) {
      const byMpxn = await read(mpxns);
      return mpxns.map((m) => byMpxn.get(m) ?? null);
    }
    return new Promise((resolve, reject) => {
      queued.push({ mpxn: mpxns[0]!, resolve, reject });
      schedule();
    });
  };
}

/** `application/json`, with no parameter or `charset=utf-8` only (what body-parser reads as is). */
const JSON_TYPE = /^application\/json[ \t]*(;[ \t]*charset="?utf-8"?[ \t]*)?$/i;

/** Express's weak ETag of a body (what `res.send` adds). */
function weakEtag(body: string, length: number): string {
  const hash = createHash("sha1").update(body, "utf8").digest("base64").substring(0, 27);
  return `W/"${length.toString(16)}-${hash}"`;
}

/** JSON of the values that recur in every answer (fuels, flags, null), looked up, not encoded. */
const ENCODED = new Map<string | null, string>(
  [null, "ELECTRICITY", "GAS", "A", "I", "N"].map((v) => [v, JSON.stringify(v)]),
);
const encode = (v: string | null): string => ENCODED.get(v) ?? JSON.stringify(v);

/** The serialiser of one meter point's selected fields, in selection order, built once per plan. */
function rowSerializer(plan: Plan): (row: FlagRow) => string {
  const parts = plan.selection.map(([key, field], i): ((row: FlagRow) => string) => {
    const k = `${i === 0 ? "{" : ","}${JSON.stringify(key)}:`;
    switch (field) {
      case "mpxn":
        return (row) => k + encode(row.mpxn);
      case "fuel":
        return (row) => k + encode(row.fuel);
      case "serviceFlag":
        return (row) => k + encode(row.service_flag);
      case "serviceFlagEffectiveAt":
        return (row) => k + (row.flag_effective_at ? `"${row.flag_effective_at.toISOString()}"` : "null");
      default:
        return () => `${k}"MeterPoint"`; // __typename
    }
  });
  return (row) => {
    let out = "";
    for (const part of parts) out += part(row);
    return `${out}}`;
  };
}

export interface FastLookupOptions {
  /** The GraphQL route (exactly; anything else goes to `fallback`). */
  readonly path: string;
  /** Bodies longer than this are left to the body parser (which answers 413). */
  readonly maxBodyBytes: number;
}

/**
 * An HTTP request listener in front of the Express app (`fallback`): it answers the flag look-up
 * itself and hands every other request to `fallback` untouched, or, once it has read the body, with
 * the body left for `withPreReadBody`. `rateLimit` is the same per-key limiter the Apollo context
 * uses. Headers decide first (POST to the route, a JSON body of known length without content
 * coding, a bearer key, an Accept that Apollo would answer with application/json), so that most
 * other requests are never touched.
 */
export function createFlagLookupListener(
  app: App,
  schema: GraphQLSchema,
  limits: OperationLimits,
  rateLimit: (viewer: Viewer) => Promise<void>,
  fallback: RequestListener,
  o: FastLookupOptions,
  stats: FastLookupStats = fastLookupStats,
): RequestListener {
  const readFlags = flagReader(app);
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
  const listVerdicts = new WeakMap<Plan, Map<number, boolean>>();
  const withinLimits = (plan: Plan, raws: unknown[]): boolean => {
    let byLength = listVerdicts.get(plan);
    if (!byLength) listVerdicts.set(plan, (byLength = new Map()));
    let ok = byLength.get(raws.length);
    if (ok === undefined) {
      ok = checkOperationLimits(schema, plan.document, limits, { [varName(plan)]: raws }).length === 0;
      byLength.set(raws.length, ok);
    }
    return ok;
  };
  const serializers = new WeakMap<Plan, (row: FlagRow) => string>();
  const serializerOf = (plan: Plan) => {
    let serialize = serializers.get(plan);
    if (!serialize) serializers.set(plan, (serialize = rowSerializer(plan)));
    return serialize;
  };
  // GraphQL over HTTP: a client that prefers application/graphql-response+json (or accepts neither)
  // gets Apollo's content negotiation; this path only answers as application/json. Express's own
  // negotiation (Apollo's order, so a tie or no Accept header means application/json), kept per
  // distinct Accept value.
  const acceptVerdicts = new Map<string, boolean>();
  const acceptsJson = (accept: string | undefined): boolean => {
    if (accept === undefined) return true;
    let ok = acceptVerdicts.get(accept);
    if (ok === undefined) {
      const probe = Object.assign(Object.create(express.request) as express.Request, {
        headers: { accept },
      });
      ok = probe.accepts("application/json", "application/graphql-response+json") === "application/json";
      if (acceptVerdicts.size >= CACHE_MAX) acceptVerdicts.clear();
      acceptVerdicts.set(accept, ok);
    }
    return ok;
  };

  /** Answers the request, or returns false (nothing sent) for the fallback to answer it. */
  async function answer(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<boolean> {
    const b = body as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (b === null || typeof b !== "object" || typeof b.query !== "string") return false;
    const plan = planOf(b.query);
    if (!plan) return false;
    if (b.operationName != null && b.operationName !== plan.operationName) return false;
    let raw: unknown;
    if ("literal" in plan.mpxn) raw = plan.mpxn.literal;
    else {
      const vars = b.variables;
      if (vars === null || typeof vars !== "object") return false;
      raw = (vars as Record<string, unknown>)[plan.mpxn.variable];
    }
    const raws = plan.list ? raw : [raw];
    if (!Array.isArray(raws) || raws.length === 0 || raws.length > LIMITS.maxMpxns) return false;
    const mpxns: string[] = new Array<string>(raws.length);
    for (let i = 0; i < raws.length; i++) {
      const r: unknown = raws[i];
      if (typeof r !== "string") return false;
      try {
        mpxns[i] = parseMpxn(r).mpxn;
      } catch {
        return false; // INVALID_MPXN, answered by Apollo
      }
    }
    // A list's cost depends on its length: the limits are checked with this request's variables
    // (the verdict is that of the length, kept per plan: at most LIMITS.maxMpxns entries).
    if (plan.list && !withinLimits(plan, raws)) return false;
    const started = process.hrtime.bigint();
    let viewer: Viewer;
    try {
      viewer = await resolveViewer(app, req.headers.authorization);
      await rateLimit(viewer);
    } catch {
      return false; // UNAUTHENTICATED or RATE_LIMITED, answered by Apollo
    }
    let rows: (FlagRow | null)[];
    try {
      rows = await readFlags(mpxns);
    } catch {
      return false;
    }
    const rowJson = serializerOf(plan);
    let value: string;
    if (!plan.list) value = rows[0] ? rowJson(rows[0]) : "null";
    else {
      value = "[";
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        value += `${i === 0 ? "" : ","}${row ? rowJson(row) : "null"}`;
      }
      value += "]";
    }
    const out = `{"data":{${JSON.stringify(plan.rootKey)}:${value}}}\n`;
    const length = Buffer.byteLength(out);
    const requestId = parseRequestId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID();
    stats.served++;
    // As Express and Apollo answer: request id, JSON, `cache-control: no-store` (no cache hints),
    // the weak ETag of `res.send`, and the length (one write).
    res.writeHead(200, {
      "X-Request-Id": requestId,
      "Content-Type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "Content-Length": length,
      ETag: weakEtag(out, length),
    });
    res.end(out);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    app.metrics.observeOperation(plan.operationName, "query", seconds);
    // The request's log line, as `requestScopeMiddleware` writes it.
    if (app.log.isLevelEnabled("info")) {
      app.log.info(
        {
          requestId,
          method: "POST",
          path: o.path,
          status: 200,
          durationMs: Math.round(seconds * 1e4) / 10,
          operation: plan.operationName ?? "__anonymous",
          ...(viewer.keyId !== null && { keyId: viewer.keyId }),
        },
        "request",
      );
    }
    return true;
  }

  return (req, res) => {
    const h = req.headers;
    const length = Number(h["content-length"]);
    if (
      req.method !== "POST" ||
      req.url !== o.path ||
      h.authorization === undefined ||
      h["content-encoding"] !== undefined ||
      !(length > 0 && length <= o.maxBodyBytes) ||
      h["content-type"] === undefined ||
      !JSON_TYPE.test(h["content-type"]) ||
      !acceptsJson(h.accept)
    ) {
      return fallback(req, res);
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      const read = parseJsonBody(text);
      const handOn = () => {
        preRead.set(req, read);
        fallback(req, res);
      };
      if ("error" in read) {
        handOn();
        return;
      }
      answer(req, res, read.body).then(
        (done) => {
          if (!done) handOn();
        },
        (e: unknown) => {
          if (res.headersSent) res.destroy(e as Error);
          else handOn();
        },
      );
    });
  };
}
