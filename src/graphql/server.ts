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
import { type SqlReader } from "../persistence/readRouting";
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

/** How long /readyz waits for the database (and for each read replica) before counting it as down. */
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
  const checkReadiness = createReadinessCheck(app);
  expressApp.get("/readyz", async (_req, res) => {
    const { ready, body } = await checkReadiness();
    res.status(ready ? 200 : 503).json(body);
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

/** The body of `/readyz`. `replicas` only when the instance reads from read replicas. */
interface ReadinessBody {
  readonly status: "ready" | "migrations pending" | "database unreachable";
  readonly replicas?: { readonly up: number; readonly down: number };
}

/**
 * The readiness check: ready while the primary answers and every migration is applied. The read
 * replicas are checked too (each must answer `SELECT 1`) and counted in the body, but never make the
 * instance unready: a read that cannot reach its replica is answered by the primary
 * (`createReadRouter`), so a replica down costs capacity, not availability. A replica going down or
 * coming back is logged once per change, and `smi_read_replica_up` follows each check.
 *
 * Every database is asked at the same time and each within READY_TIMEOUT_MS, so the probe answers
 * within that time even when a server accepts connections and then says nothing (the pools would
 * wait 10 s to connect).
 */
function createReadinessCheck(app: App): () => Promise<{ ready: boolean; body: ReadinessBody }> {
  const wasUp = app.replicas.map(() => true); // as openApp left them: connected
  const checkReplica = async (replica: SqlReader, i: number): Promise<boolean> => {
    let error: unknown = null;
    try {
      await withTimeout(replica.query("SELECT 1"), READY_TIMEOUT_MS, "read replica check");
    } catch (e) {
      error = e;
    }
    const up = error === null;
    app.metrics.setReplicaUp(`replica-${i + 1}`, up);
    if (up !== wasUp[i]) {
      wasUp[i] = up;
      // By position, never by URL (it holds a password), as everywhere else.
      if (up) app.log.info({ replica: i + 1 }, "read replica answers again: reads go to it again");
      else
        app.log.warn(
          { replica: i + 1, err: (error as Error).message },
          "read replica down: its reads go to the primary",
        );
    }
    return up;
  };
  return async () => {
    const [status, replicasUp] = await Promise.all([
      withTimeout(migrationsApplied(app.ds), READY_TIMEOUT_MS, "readiness check").then(
        (applied): ReadinessBody["status"] => (applied ? "ready" : "migrations pending"),
        (): ReadinessBody["status"] => "database unreachable",
      ),
      Promise.all(app.replicas.map(checkReplica)),
    ]);
    if (replicasUp.length === 0) return { ready: status === "ready", body: { status } };
    const up = replicasUp.filter(Boolean).length;
    return { ready: status === "ready", body: { status, replicas: { up, down: replicasUp.length - up } } };
  };
}

/** `p`, or a rejection once `ms` have passed (`p` is not cancelled: it runs on, its result dropped). */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
