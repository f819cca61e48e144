import { type IncomingMessage, type Server } from "node:http";
import { type Duplex } from "node:stream";
import {
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type ValidationRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type App } from "../app";
import { type TransitionFeed } from "../subscriptions/TransitionFeed";
import { SubscriptionEndCode, SubscriptionEndedError } from "../subscriptions/TransitionSubscription";
import { resolveViewer } from "./auth";
import { type Viewer, createContext } from "./context";
import { ErrorCode, createFormatError, withoutSuggestions } from "./errors";
import { checkOperationLimits, createRateLimit, limitsOf } from "./protections";
import { type SubscriptionContext } from "./resolvers/subscription.resolver";
import { subscribeShared } from "./sharedExecution";

/*
 * GraphQL over WebSocket (graphql-transport-ws, the graphql-ws library) on the HTTP server's port and
 * path. Over WebSocket none of Apollo's HTTP protections run, so this file applies each of them
 * itself, in the same order as HTTP:
 *
 * - the upgrade: path `/graphql` only, the browser `Origin` checked against WS_ALLOWED_ORIGINS
 *   (cross-site WebSocket hijacking), a message size cap, no new sockets once draining;
 * - `connection_init`: the API key (`{ "authorization": "Bearer ..." }`), resolved by the same
 *   `resolveViewer` as HTTP; missing/unknown key → close 4401, refused → 4403;
 * - `subscribe`: the rate limit, parse, validation (+ no introspection when it is off), depth and
 *   cost limits (protections.ts, the rules HTTP runs), subscriptions only (queries and mutations go
 *   over HTTP, where every HTTP-only protection applies). Every failure is an `error` message for
 *   that operation id; the socket and its other subscriptions carry on. graphql-ws's defaults would
 *   close the whole socket on a syntax error (4500), and on a subscribe message of the wrong shape
 *   (4400): `reviveSubscribe` below turns the latter into an error for the operation as well.
 * - every error sent goes through the one formatter (errors.ts), so masking is the same.
 */

/** Codes of subscription errors whose messages are for the client (besides errors.ts's public ones). */
const SUBSCRIPTION_CODES = new Set<string>(Object.values(SubscriptionEndCode));
const MALFORMED = "__smiMalformedSubscribe";

/** What a connection carries once `connection_init` is accepted. */
type ConnectionExtra = { viewer: Viewer };

export interface WebSocketOptions {
  readonly app: App;
  readonly schema: GraphQLSchema;
  readonly feed: TransitionFeed;
  readonly introspection: boolean;
  /** Largest accepted message, in bytes. */
  readonly maxPayload: number;
}

export interface WebSocketHandle {
  /** Open sockets (a gauge for metrics). */
  connections(): number;
  /** Stop accepting upgrades and close every socket with 1001 (Going Away). */
  dispose(): Promise<void>;
}

/** Is this upgrade's Origin allowed? No Origin: not a browser, allowed (it must still authenticate). */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}

/**
 * graphql-ws validates the message shape before any hook runs and closes the socket on a subscribe
 * whose payload is not `{ query: string, ... }`. JSON.parse's reviver sees the message first: a
 * subscribe with a usable id but a bad payload is rewritten into a marked one that `onSubscribe`
 * answers with an error for that id. Anything without a usable id still closes (4400): there is no
 * operation to answer.
 */
function reviveSubscribe(this: unknown, key: string, value: unknown): unknown {
  if (key !== "" || typeof value !== "object" || value === null) return value;
  const m = value as { type?: unknown; id?: unknown; payload?: unknown };
  if (m.type !== "subscribe" || typeof m.id !== "string" || m.id === "") return value;
  const p = m.payload as { query?: unknown; variables?: unknown; operationName?: unknown } | null;
  const problem =
    typeof p !== "object" || p === null || Array.isArray(p)
      ? "expected the subscribe payload to be an object"
      : typeof p.query !== "string"
        ? "expected the subscribe payload's query to be a string"
        : p.variables !== undefined &&
            p.variables !== null &&
            (typeof p.variables !== "object" || Array.isArray(p.variables))
          ? "expected the subscribe payload's variables to be an object"
          : p.operationName !== undefined && p.operationName !== null && typeof p.operationName !== "string"
            ? "expected the subscribe payload's operationName to be a string"
            : null;
  if (problem === null) return value;
  return { type: "subscribe", id: m.id, payload: { query: "", extensions: { [MALFORMED]: problem } } };
}

const requestError = (message: string, code: string) => new GraphQLError(message, { extensions: { code } });

export function attachWebSocketServer(httpServer: Server, o: WebSocketOptions): WebSocketHandle {
  const { app, schema, feed } = o;
  const config = app.config;
  const limits = limitsOf(config);
  const rateLimit = createRateLimit(config);
  const formatError = createFormatError({
    production: config.production,
    onInternalError: (error) => app.log.error({ err: error }, "internal error in a WebSocket operation"),
  });
  const format = (e: GraphQLError): GraphQLFormattedError => {
    const original = e.originalError ?? e;
    if (original instanceof SubscriptionEndedError)
      return { message: original.message, extensions: { code: original.code } };
    const code = e.extensions?.code;
    if (typeof code === "string" && SUBSCRIPTION_CODES.has(code))
      return { message: e.message, extensions: { code } };
    return formatError(e.toJSON(), e);
  };
  const rules: readonly ValidationRule[] = o.introspection
    ? specifiedRules
    : [...specifiedRules, NoSchemaIntrospectionCustomRule];

  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayload });
  let draining = false;

  const refuse = (socket: Duplex, status: number, reason: string) => {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/graphql") return refuse(socket, 404, "Not Found");
    if (draining) return refuse(socket, 503, "Service Unavailable");
    if (!originAllowed(req.headers.origin, config.WS_ALLOWED_ORIGINS)) {
      app.log.warn({ origin: req.headers.origin }, "refused a WebSocket upgrade from a disallowed origin");
      return refuse(socket, 403, "Forbidden");
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  };
  httpServer.on("upgrade", onUpgrade);

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      jsonMessageReviver: reviveSubscribe,
      subscribe: subscribeShared,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const authorization = typeof raw === "string" ? raw : undefined;
        try {
          ctx.extra.viewer = await resolveViewer(app, authorization);
          return true;
        } catch (e) {
          const code = e instanceof GraphQLError ? e.extensions?.code : undefined;
          if (code === ErrorCode.UNAUTHENTICATED)
            ctx.extra.socket.close(CloseCode.Unauthorized, "Unauthorized");
          else if (code === ErrorCode.FORBIDDEN) ctx.extra.socket.close(CloseCode.Forbidden, "Forbidden");
          else {
            app.log.error({ err: e }, "resolving a WebSocket viewer failed");
            ctx.extra.socket.close(CloseCode.InternalServerError, "Internal server error");
          }
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        try {
          const viewer = ctx.extra.viewer;
          if (!viewer)
            return [requestError("expected connection_init before subscribe", ErrorCode.UNAUTHENTICATED)];
          const malformed = (payload.extensions as Record<string, unknown> | undefined)?.[MALFORMED];
          if (typeof malformed === "string") return [requestError(malformed, "BAD_REQUEST")];
          try {
            await rateLimit(viewer);
          } catch (e) {
            if (e instanceof GraphQLError) return [e];
            throw e;
          }
          let document: DocumentNode;
          try {
            document = parse(payload.query, { maxTokens: 10000 });
          } catch (e) {
            return [
              requestError(e instanceof GraphQLError ? e.message : "Syntax Error", "GRAPHQL_PARSE_FAILED"),
            ];
          }
          const operation = getOperationAST(document, payload.operationName);
          if (!operation)
            return [requestError("Unable to identify operation", "OPERATION_RESOLUTION_FAILURE")];
          if (operation.operation !== "subscription")
            return [
              requestError(
                `expected a subscription over WebSocket, got a ${operation.operation}: send queries and mutations over HTTP POST`,
                "BAD_REQUEST",
              ),
            ];
          const invalid = validate(schema, document, rules);
          if (invalid.length > 0)
            return invalid.map((e) =>
              requestError(
                config.production ? withoutSuggestions(e.message) : e.message,
                "GRAPHQL_VALIDATION_FAILED",
              ),
            );
          const tooComplex = checkOperationLimits(schema, document, limits, payload.variables);
          if (tooComplex.length > 0) return tooComplex;
          const contextValue: SubscriptionContext = {
            ...createContext(app, viewer),
            feed,
            executionKey: JSON.stringify([
              payload.query,
              payload.operationName ?? null,
              payload.variables ?? null,
              viewer.role,
              viewer.party,
            ]),
          };
          return {
            schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue,
          };
        } catch (e) {
          app.log.error({ err: e }, "internal error preparing a WebSocket operation");
          return [requestError("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR)];
        }
      },
      // Results with errors (bad variables, a refused subscription) and errors that end a stream
      // are formatted exactly as over HTTP.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(format) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
    },
    wss,
    // graphql-ws's ping/pong keep-alive (ms): a dead peer is dropped within two intervals.
    12_000,
  );

  return {
    connections: () => wss.clients.size,
    async dispose() {
      draining = true;
      httpServer.off("upgrade", onUpgrade);
      await server.dispose();
    },
  };
}
