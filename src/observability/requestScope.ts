import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { type ApolloServerPlugin } from "@apollo/server";
import { type NextFunction, type Request, type Response } from "express";
import { type Logger } from "../logger";

/**
 * What belongs to one HTTP request for as long as its work runs, carried by AsyncLocalStorage so
 * that code deep in a resolver or a store needs no extra parameter:
 * - `requestId`, which the logger adds to every line written during the request (`logMixin`);
 * - `readFromPrimary`, set for mutations, so that what a mutation reads back (the meter point of
 *   a transition it just caused) comes from the primary, never from a replica that lags behind it.
 */
export interface RequestScope {
  readonly requestId: string;
  readFromPrimary: boolean;
  /** For the request's log line: the GraphQL operation and the id (never the key) of the API key. */
  operation?: string;
  keyId?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

export const currentRequestScope = (): RequestScope | undefined => storage.getStore();

/** Runs `fn` inside a request scope (HTTP middleware, WebSocket messages, tests). */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** Fields pino adds to every log line: the request id while inside a request. */
export function logMixin(): Record<string, unknown> {
  const scope = storage.getStore();
  return scope ? { requestId: scope.requestId } : {};
}

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * A client's (or the load balancer's) `X-Request-Id` is kept when it is a plausible id: printable,
 * no spaces, at most 128 characters. Anything else is replaced, so a client cannot write arbitrary
 * text into the logs through it.
 */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:/+=@-]{1,128}$/;

export function parseRequestId(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && ACCEPTABLE_ID.test(v) ? v : null;
}

/**
 * Express middleware: gives every request an id (the incoming `X-Request-Id` or a new UUID), returns
 * it in the response's `X-Request-Id`, runs the rest of the request in its scope, and logs one line
 * when the response is finished: method, path, status, duration. Never headers or bodies, so keys
 * cannot leak through it.
 */
export function requestScopeMiddleware(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = parseRequestId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID();
    res.setHeader("X-Request-Id", requestId);
    const started = process.hrtime.bigint();
    const scope: RequestScope = { requestId, readFromPrimary: false };
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = req.originalUrl.split("?")[0];
      // Probes and scrapes are frequent and uninteresting: debug level.
      const level = path === "/healthz" || path === "/readyz" || path === "/metrics" ? "debug" : "info";
      log[level](
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round(ms * 10) / 10,
          ...(scope.operation !== undefined && { operation: scope.operation }),
          ...(scope.keyId !== undefined && { keyId: scope.keyId }),
        },
        "request",
      );
    });
    storage.run(scope, next);
  };
}

/**
 * The Apollo plugin that marks a mutation's request scope `readFromPrimary`: what a mutation returns
 * (e.g. the meter points of the transitions it caused) is read from the primary it just wrote to.
 * It also notes the operation name and the API key's id for the request's log line.
 */
export function createRequestScopePlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const scope = storage.getStore();
          if (!scope) return;
          if (rc.operation?.operation === "mutation") scope.readFromPrimary = true;
          scope.operation = rc.operationName ?? "__anonymous";
          const keyId = (rc.contextValue as { viewer?: { keyId?: string | null } }).viewer?.keyId;
          if (typeof keyId === "string") scope.keyId = keyId;
        },
      };
    },
  };
}
