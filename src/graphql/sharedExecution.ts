import { type ExecutionArgs, type ExecutionResult, createSourceEventStream, execute } from "graphql";

/**
 * Subscription execution shared between subscribers (graphql-ws's `subscribe` hook).
 *
 * graphql-js executes a subscription's selection set once per event *per subscriber*. With
 * thousands of subscribers watching the same transitions through the same operation, that is the
 * server's main cost. The result of executing one operation on one transition depends only on the
 * operation text, its variables and who is asking (role and party: field rules and scope), so
 * subscribers whose `executionKey` is equal share one execution per transition. The key is built
 * in `onSubscribe`, which sees all three; anything that does not carry a key executes alone.
 */
export interface SharedExecutionContext {
  /** Operation text + operation name + variables + viewer role and party; null: do not share. */
  readonly executionKey: string | null;
}

/** What graphql-ws iterates; `return` reaches the source at once (see mapSource). */
type ResultStream = AsyncIterableIterator<ExecutionResult> &
  Required<Pick<AsyncIterator<ExecutionResult>, "return" | "throw">>;

const MAX_ENTRIES = 20_000;
const cache = new Map<string, Promise<ExecutionResult>>();

function executeShared(args: ExecutionArgs, key: string | null, payload: unknown): Promise<ExecutionResult> {
  const run = () => Promise.resolve(execute({ ...args, rootValue: payload }));
  const sequence = (payload as { sequence?: unknown } | null)?.sequence;
  if (key === null || typeof sequence !== "string") return run();
  const k = `${sequence}\u0000${key}`;
  let p = cache.get(k);
  if (!p) {
    p = run();
    cache.set(k, p);
    // Oldest first: entries are only useful while one transition is being fanned out.
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  return p;
}

/**
 * Maps the source stream to execution results. Unlike an async generator, `return()` reaches the
 * source at once even while a `next()` is waiting for the next transition, so an unsubscribe
 * detaches the subscriber immediately.
 */
function mapSource(
  source: AsyncIterator<unknown>,
  f: (payload: unknown) => Promise<ExecutionResult>,
): ResultStream {
  const close = async () => {
    await source.return?.();
  };
  const it: ResultStream = {
    async next() {
      const r = await source.next();
      if (r.done) return { done: true, value: undefined };
      try {
        return { done: false, value: await f(r.value) };
      } catch (e) {
        await close();
        throw e;
      }
    },
    async return() {
      await close();
      return { done: true, value: undefined };
    },
    async throw(e: unknown) {
      await close();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

/** graphql-ws `subscribe`: graphql-js's source stream, mapped through the shared execution. */
export async function subscribeShared(args: ExecutionArgs): Promise<ResultStream | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(stream))) return stream as ExecutionResult;
  const key = (args.contextValue as Partial<SharedExecutionContext> | undefined)?.executionKey ?? null;
  const source = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return mapSource(source, (payload) => executeShared(args, key, payload));
}
