import { type GraphQLFormattedError, GraphQLError } from "graphql";
import { DomainError } from "../domain/DomainError";

/**
 * Public error codes (`extensions.code`). Internal error classes map to these in one place,
 * `formatError`; anything unknown is masked as INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  INVALID_MPXN: "INVALID_MPXN",
  INVALID_DEVICE_ID: "INVALID_DEVICE_ID",
  QUERY_TOO_COMPLEX: "QUERY_TOO_COMPLEX",
  RATE_LIMITED: "RATE_LIMITED",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const badUserInput = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
export const forbidden = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
export const unauthenticated = (message: string) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorCode.UNAUTHENTICATED,
      http: { status: 401, headers: new Map([["www-authenticate", 'Bearer realm="smi-gateway"']]) },
    },
  });
/** Too deep or too costly: rejected before execution. */
export const queryTooComplex = (message: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: 400 } } });
/** Over the key's rate limit: HTTP 429 with Retry-After. */
export const rateLimited = (retryAfterSeconds: number) =>
  new GraphQLError(`rate limit exceeded for this API key; retry after ${retryAfterSeconds} s`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      retryAfterSeconds,
      http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) },
    },
  });

/** Codes whose messages are safe to show: they describe the client's own input or rights. */
const PUBLIC_CODES = new Set<string>([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.INVALID_MPXN,
  ErrorCode.INVALID_DEVICE_ID,
  ErrorCode.QUERY_TOO_COMPLEX,
  ErrorCode.RATE_LIMITED,
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "PAYLOAD_TOO_LARGE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/** Maps a domain error thrown in a resolver to its public GraphQL error. */
export function toGraphQLError(e: DomainError): GraphQLError {
  const code =
    e.code === "INVALID_MPXN" || e.code === "INVALID_DEVICE_ID" ? e.code : ErrorCode.BAD_USER_INPUT;
  return new GraphQLError(e.message, { extensions: { code, reason: e.code } });
}

/** A message without graphql-js's "Did you mean ...?" hint. */
export const withoutSuggestions = (message: string) => message.replace(/\s*Did you mean [^]*$/, "");

export interface FormatOptions {
  readonly production: boolean;
  readonly onInternalError?: (error: unknown, formatted: GraphQLFormattedError) => void;
}

/**
 * The one error formatter (HTTP and WebSocket). Domain errors become their public codes; public
 * codes pass through; everything else is logged in full and masked, without SQL, stack frames,
 * host names or internal messages.
 */
export function createFormatError(o: FormatOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof DomainError) {
      const mapped = toGraphQLError(original);
      return {
        message: mapped.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: mapped.extensions,
      };
    }
    // type-graphql's own access errors (a field marked @Authorized whose check returned false).
    if (
      original instanceof Error &&
      (original.name === "AuthorizationError" || original.name === "AuthenticationError")
    ) {
      return {
        message: original.name === "AuthorizationError" ? "access denied" : "authentication required",
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: original.name === "AuthorizationError" ? ErrorCode.FORBIDDEN : ErrorCode.UNAUTHENTICATED,
        },
      };
    }
    // type-graphql's argument validation (class-validator) is the client's input.
    if (original instanceof Error && original.name === "ArgumentValidationError") {
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && PUBLIC_CODES.has(code)) {
      if (!o.production) return formatted;
      const { stacktrace: _s, exception: _e, ...extensions } = formatted.extensions ?? {};
      // graphql-js suggests names from the schema ("Did you mean ...?"): with introspection off that
      // would leak it piecemeal. Apollo's hideSchemaDetailsFromClientErrors covers validation; this
      // covers every other message (variable coercion of enum values, for one).
      return { ...formatted, message: withoutSuggestions(formatted.message), extensions };
    }
    o.onInternalError?.(error, formatted);
    return {
      message: "Internal server error",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
