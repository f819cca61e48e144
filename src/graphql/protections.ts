import { type ApolloServerPlugin } from "@apollo/server";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import type express from "express";
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  Kind,
  type ValidationRule,
  validate,
} from "graphql";
import {
  type ComplexityEstimator,
  type ComplexityEstimatorArgs,
  createComplexityRule,
  simpleEstimator,
} from "graphql-query-complexity";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { type Config } from "../config";
import { type Viewer } from "./context";
import { ErrorCode, queryTooComplex, rateLimited } from "./errors";

/*
 * The limits every operation meets, over HTTP and over WebSocket alike (SPEC §4):
 * depth and cost (graphql-js validation rules, so both transports run exactly the same rules),
 * a per-key rate limit, and, for HTTP, a body size cap with JSON errors.
 */

export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
}

export const limitsOf = (config: Config): OperationLimits => ({
  maxDepth: config.MAX_QUERY_DEPTH,
  maxCost: config.MAX_QUERY_COST,
});

/**
 * How many items a list field returns at most, from its arguments. A list field costs
 * `1 + size × (cost of one item)`; every other field costs 1 plus its selection. Sizes are the
 * bounds the resolvers enforce (or, for unbounded associations, a realistic upper estimate), so
 * the cost of an operation bounds the rows it can touch.
 */
const LIST_SIZE: Readonly<Record<string, (args: Record<string, unknown>) => number>> = {
  "Query.meterPoints": (a) => (Array.isArray(a.mpxns) ? a.mpxns.length : 1),
  "Query.meterPointsConnection": (a) => num(a.first, 50),
  "Query.serviceFlagTransitions": (a) => num(a.first, 100),
  "MeterPoint.flagHistory": (a) => num(a.first, 20),
  "MeterPoint.devices": (a) => (a.includeHistoric === true ? 5 : 2),
  "FlagExplanation.contributingDevices": () => 2,
  "Device.meterPoints": () => 2,
  "Device.statusHistory": (a) => num(a.first, 20),
  "Query.flowFiles": (a) => num(a.first, 100),
  "Mutation.applyEvents": (a) => (Array.isArray(a.events) ? Math.max(1, a.events.length / 10) : 1),
  "ApplyEventsResult.transitions": () => 10,
  "ApplyEventsResult.rejected": () => 10,
};
const num = (v: unknown, fallback: number) => (typeof v === "number" && v >= 0 ? v : fallback);

/** Records whether any list size came from a variable (then the cost depends on the request). */
interface CostUsage {
  variableSized: boolean;
}

const listEstimator =
  (usage: CostUsage): ComplexityEstimator =>
  (o: ComplexityEstimatorArgs) => {
    const size = LIST_SIZE[`${o.type.name}.${o.field.name}`];
    if (!size) return undefined;
    if (o.node.arguments?.some((a) => a.value.kind === Kind.VARIABLE)) usage.variableSized = true;
    return 1 + Math.ceil(size(o.args)) * o.childComplexity;
  };

/**
 * The depth and cost rules for one request. `variables` are the request's variables (the cost of
 * `first: $n` depends on them). Errors carry `extensions.code` QUERY_TOO_COMPLEX.
 * The WebSocket server runs these same rules in `onSubscribe` (see `checkOperationLimits`).
 */
export function createProtectionRules(
  limits: OperationLimits,
  variables: Record<string, unknown> | null | undefined,
  usage: CostUsage = { variableSized: true },
): ValidationRule[] {
  return [
    maxDepthRule({
      n: limits.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      exposeLimits: true,
      propagateOnRejection: false,
      onReject: [
        (ctx, error) => ctx?.reportError(queryTooComplex(error.message.replace(/^Syntax Error: /, ""))),
      ],
    }),
    createComplexityRule({
      maximumComplexity: limits.maxCost,
      variables: variables ?? {},
      estimators: [listEstimator(usage), simpleEstimator({ defaultComplexity: 1 })],
      createError: (max, actual) =>
        queryTooComplex(`Query cost limit of ${max} exceeded, estimated ${actual}.`),
    }),
  ];
}

/**
 * Runs the depth and cost rules on a parsed, already validated document. Returns the limit errors
 * only: anything else these rules meet (say, variables of the wrong type) is reported by execution
 * with its own code.
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: OperationLimits,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError[] {
  // Apollo (and a client repeating its operations over WebSocket) hands the same parsed document
  // again and again: when no list size came from a variable the verdict is the document's own, and
  // is kept with it (the hot path, a single flag look-up, then skips the traversal).
  const key = `${limits.maxDepth}/${limits.maxCost}`;
  const cached = verdicts.get(document);
  if (cached?.key === key) return cached.errors;
  const usage: CostUsage = { variableSized: false };
  const all = validate(schema, document, createProtectionRules(limits, variables, usage));
  const errors = all.filter((e) => e.extensions.code === ErrorCode.QUERY_TOO_COMPLEX);
  // Any other error (variables that do not coerce) stops the cost count early: never keep that.
  if (!usage.variableSized && all.length === errors.length) verdicts.set(document, { key, errors });
  return errors;
}
const verdicts = new WeakMap<DocumentNode, { key: string; errors: GraphQLError[] }>();

/** Apollo plugin: the limits, checked once the operation is known and before it runs. */
export function operationLimitsPlugin<T extends object>(limits: OperationLimits): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const errors = checkOperationLimits(schema, document, limits, request.variables);
          if (errors[0]) throw errors[0];
        },
      };
    },
  };
}

/**
 * Per-key rate limit, in memory (each instance counts its own requests): RATE_LIMIT_POINTS
 * requests per RATE_LIMIT_WINDOW_SECONDS. Over the limit, RATE_LIMITED with HTTP 429 and
 * Retry-After. RATE_LIMIT_POINTS=0 turns it off.
 */
export function createRateLimit(config: Config): (viewer: Viewer) => Promise<void> {
  if (config.RATE_LIMIT_POINTS === 0) return async () => undefined;
  const limiter = new RateLimiterMemory({
    points: config.RATE_LIMIT_POINTS,
    duration: config.RATE_LIMIT_WINDOW_SECONDS,
  });
  return async (viewer) => {
    try {
      await limiter.consume(viewer.keyId ?? `${viewer.role}:${viewer.party ?? ""}`);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw rateLimited(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
      throw e;
    }
  };
}

const wantsGraphQLResponse = (req: express.Request) =>
  (req.headers.accept ?? "").includes("application/graphql-response+json");

/** A GraphQL-shaped JSON error for a request that never reached GraphQL. */
function sendHttpError(
  req: express.Request,
  res: express.Response,
  status: number,
  code: string,
  message: string,
) {
  res
    .status(status)
    .type(wantsGraphQLResponse(req) ? "application/graphql-response+json" : "application/json")
    .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * Express error handler for the GraphQL route: body parser failures (malformed JSON, body too
 * large, unsupported charset) become JSON errors, never Express's HTML page; anything else is
 * logged and masked.
 */
export function httpErrorHandler(
  maxBodyBytes: number,
  onInternalError: (error: unknown) => void,
): express.ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; status?: number };
    if (e.type === "entity.too.large") {
      return sendHttpError(
        req,
        res,
        413,
        "PAYLOAD_TOO_LARGE",
        `expected a request body of at most ${maxBodyBytes} bytes`,
      );
    }
    if (e.type === "entity.parse.failed") {
      return sendHttpError(req, res, 400, "BAD_REQUEST", "expected a JSON request body, got malformed JSON");
    }
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500) {
      return sendHttpError(req, res, e.status, "BAD_REQUEST", "the request body could not be read");
    }
    onInternalError(err);
    return sendHttpError(req, res, 500, ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error");
  };
}

/**
 * Apollo's Express integration answers a request whose body no parser read (a non-JSON content
 * type) with a plain-text 500. Give it an empty body instead: Apollo then answers with its own JSON
 * 400 (CSRF prevention or "POST body missing").
 */
export const ensureBody: express.RequestHandler = (req, _res, next) => {
  if (!("body" in req) || req.body === undefined) (req as { body: unknown }).body = {};
  next();
};
