import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; reason?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLErrorShape[] | undefined;
}

/** Speaks GraphQL over real HTTP to a running service, with typed documents from codegen. */
export class GraphQLClient {
  constructor(
    readonly url: string,
    private readonly secret: string | null,
  ) {}

  as(secret: string | null): GraphQLClient {
    return new GraphQLClient(this.url, secret);
  }

  async request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables> | string, variables?: TVariables): Promise<GraphQLResponse<TData>> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.secret ? { authorization: `Bearer ${this.secret}` } : {}) },
      body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
    });
    const text = await response.text();
    let body: { data?: TData | null; errors?: GraphQLErrorShape[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`non-JSON response ${response.status}: ${text.slice(0, 500)}`);
    }
    return { status: response.status, data: body.data, errors: body.errors };
  }

  /** The data of a request that must succeed; fails the test with the errors otherwise. */
  async ok<TData, TVariables>(document: TypedDocumentNode<TData, TVariables> | string, variables?: TVariables): Promise<TData> {
    const result = await this.request(document, variables);
    if (result.errors?.length || !result.data) {
      throw new Error(`expected success, got ${result.status}: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  /** The first error of a request that must fail. */
  async error<TData, TVariables>(document: TypedDocumentNode<TData, TVariables> | string, variables?: TVariables): Promise<GraphQLErrorShape> {
    const result = await this.request(document, variables);
    if (!result.errors?.length) throw new Error(`expected an error, got data ${JSON.stringify(result.data)}`);
    return result.errors[0];
  }
}
