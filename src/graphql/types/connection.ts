import { type ClassType, Field, ObjectType } from "type-graphql";

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}
export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** Relay connection and edge types for a node type: `{ edges { cursor node } pageInfo { hasNextPage endCursor } }`. */
export function createConnection<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field() cursor!: string;
    @Field(() => node) node!: T;
  }
  @ObjectType(`${name}Connection`)
  class ConnectionType implements Connection<T> {
    @Field(() => [EdgeType]) edges!: EdgeType[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** Builds a page from `limit + 1` fetched items: the extra one only says there is a next page. */
export function toConnection<R, T>(
  rows: readonly R[],
  limit: number,
  cursorOf: (r: R) => string,
  nodeOf: (r: R) => T,
): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((r) => ({ cursor: cursorOf(r), node: nodeOf(r) }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
