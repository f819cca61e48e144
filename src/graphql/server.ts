import { type RequestListener, createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { type App } from "../app";
import { createMetricsPlugin } from "../observability/metrics";
import { createRequestScopePlugin, requestScopeMiddleware } from "../observability/requestScope";
import { migrationsApplied } from "../persistence/dataSource";
import { resolveViewer } from "./auth";
import { type GraphQLContext, createContext } from "./context";
import { createFormatError } from "./errors";
import { createFlagLookupListener, withPreReadBody } from "./fastLookup";
import {
  createRateLimit,
  ensureBody,
  httpErrorHandler,
  limitsOf,
  operationLimitsPlugin,
} from "./protections";
import { createSchema } from "./schema";
import { type WebSocketHandle, attachWebSocketServer } from "./websocket";
import { TransitionFeed } from "../subscriptions/TransitionFeed";

/** How long /readyz waits for the database before answering 503. */
const READY_TIMEOUT_MS = 2000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** The subscription feed of this process (`feed.stats()` for metrics: subscriptions, position). */
  readonly feed: TransitionFeed;
  /** Open WebSocket connections (a gauge for metrics). */
  webSocketConnections(): number;
  /** Graceful: stop accepting, let in-flight requests finish, close sockets. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly port: number;
  readonly host?: string;
}

export async function startServer(app: App, o: ServerOptions): Promise<RunningServer> {
  const schema = createSchema();
  const expressApp = express();
  // The flag look-up's listener goes in front of Express once the rate limiter exists (below).
  let listener: RequestListener = expressApp;
  const httpServer = createServer((req, res) => listener(req, res));
  // Subscriptions (SPEC §6): one feed per process, and graphql-ws on the same port and path.
  const feed = new TransitionFeed({
    databaseUrl: app.databaseUrl,
    ds: app.ds,
    log: app.log,
    pollIntervalMs: app.config.SUBSCRIPTION_POLL_MS,
    queueLimit: app.config.SUBSCRIPTION_QUEUE_LIMIT,
  });
  await feed.start();
  app.metrics.setActiveSubscriptions(() => feed.stats().subscriptions);
  app.metrics.setFeed(() => feed.stats());
  let webSockets: WebSocketHandle | null = null;
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: createFormatError({
      production: app.config.production,
      onInternalError: (error) => app.log.error({ err: error }, "internal error in a GraphQL operation"),
    }),
    includeStacktraceInErrorResponses: !app.config.production,
    introspection: app.config.INTROSPECTION ?? !app.config.production,
    allowBatchedHttpRequests: false,
    // `serve` owns SIGINT/SIGTERM: Apollo's own handlers would stop it, then re-raise the signal and
    // kill the process before the pools and the embedded database are closed (exit by signal, not 0).
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    // No "Did you mean ...?" hints (they would leak the schema) in production.
    hideSchemaDetailsFromClientErrors: app.config.production,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Beside the HTTP drain: no new upgrades, every socket closed with 1001 (Going Away).
      { serverWillStart: async () => ({ drainServer: async () => webSockets?.dispose() }) },
      operationLimitsPlugin(limitsOf(app.config)),
      createRequestScopePlugin(),
      createMetricsPlugin(app.metrics),
    ],
  });
  await apollo.start();
  const rateLimit = createRateLimit(app.config);

  expressApp.disable("x-powered-by");
  // First: every request gets its id (and log line) before anything can fail.
  expressApp.use(requestScopeMiddleware(app.log));
  app.metrics.enableProcessMetrics();
  expressApp.get("/metrics", async (_req, res) => {
    res.type(app.metrics.contentType).send(await app.metrics.render());
  });
  expressApp.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  expressApp.get("/readyz", async (_req, res) => {
    try {
      // A probe must answer within its own timeout, even when the pool would wait 10 s to connect.
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        migrationsApplied(app.ds),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("readiness check timed out")), READY_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "migrations pending" });
    } catch {
      res.status(503).json({ status: "database unreachable" });
    }
  });
  expressApp.use(
    "/graphql",
    // A body the flag look-up's listener read before handing the request on is not read again.
    withPreReadBody(express.json({ limit: app.config.MAX_BODY_BYTES })),
    ensureBody,
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const viewer = await resolveViewer(app, req.headers.authorization);
        await rateLimit(viewer);
        return createContext(app, viewer);
      },
    }),
    httpErrorHandler(app.config.MAX_BODY_BYTES, (err) =>
      app.log.error({ err }, "internal error in an HTTP request"),
    ),
  );

  // The flag look-up answered before Express and Apollo's pipeline (same checks; see fastLookup.ts).
  listener = createFlagLookupListener(app, schema, limitsOf(app.config), rateLimit, expressApp, {
    path: "/graphql",
    maxBodyBytes: app.config.MAX_BODY_BYTES,
  });

  webSockets = attachWebSocketServer(httpServer, {
    app,
    schema,
    feed,
    introspection: app.config.INTROSPECTION ?? !app.config.production,
    maxPayload: app.config.MAX_BODY_BYTES,
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(o.port, o.host ?? "0.0.0.0", () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const shownHost = !o.host || o.host === "0.0.0.0" || o.host === "::" ? "localhost" : o.host;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    httpServer,
    feed,
    webSocketConnections: () => webSockets?.connections() ?? 0,
    async stop() {
      await apollo.stop();
      await feed.stop();
    },
  };
}
