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
  new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });

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
      return { ...formatted, extensions };
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
