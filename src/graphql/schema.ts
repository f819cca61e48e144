import "reflect-metadata";
import { type GraphQLSchema } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import { buildSchemaSync } from "type-graphql";
import { authChecker } from "./auth";
import "./types/enums";
import { DeviceResolver } from "./resolvers/device.resolver";
import { FlowsResolver } from "./resolvers/flows.resolver";
import { MeterPointResolver } from "./resolvers/meterPoint.resolver";
import { MutationResolver } from "./resolvers/mutation.resolver";
import { QueryResolver } from "./resolvers/query.resolver";
import { SubscriptionResolver } from "./resolvers/subscription.resolver";
import { TransitionResolver } from "./resolvers/transition.resolver";

export const RESOLVERS = [
  QueryResolver,
  MutationResolver,
  MeterPointResolver,
  DeviceResolver,
  TransitionResolver,
  SubscriptionResolver,
  FlowsResolver,
] as const;

let cached: GraphQLSchema | undefined;

/** The executable schema (built once per process: type-graphql's metadata is global). */
export function createSchema(): GraphQLSchema {
  cached ??= buildSchemaSync({
    resolvers: [...RESOLVERS],
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // class-validator checks the bounds declared on input classes (e.g. list sizes in filters).
    validate: { forbidUnknownValues: false },
    // type-graphql insists on a pubsub once a subscription exists; ours brings its own `subscribe`
    // (the database-backed feed of src/subscriptions), so nothing may ever reach this one.
    pubSub: {
      publish() {
        throw new Error("expected no type-graphql pubsub use: transitions are published by the database");
      },
      subscribe() {
        throw new Error("expected no type-graphql pubsub use: subscriptions read src/subscriptions' feed");
      },
    },
    // Field-level access rules (SPEC §5): see auth.ts. Denied fields throw FORBIDDEN.
    authChecker,
    authMode: "error",
  });
  return cached;
}
