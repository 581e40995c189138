// A tiny typed client: one function that sends a typed document and answers
// its typed data, or throws a KaoheError carrying the server's
// `extensions.code` (every error of the API has one; see README "Error codes").
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export class KaoheError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly path?: ReadonlyArray<string | number>,
  ) {
    super(message);
    this.name = "KaoheError";
  }
}

interface GraphQLErrorBody {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string };
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export class Kaohe {
  private token: string | undefined;

  constructor(private readonly url: string) {}

  /** Sends `document` with `variables`; the data, or a KaoheError for the first error. */
  async request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<TResult> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
    });
    const body = (await res.json()) as GraphQLResponse<TResult>;
    const first = body.errors?.[0];
    if (first !== undefined) {
      throw new KaoheError(first.message, first.extensions?.code ?? "UNKNOWN", res.status, first.path);
    }
    if (body.data === undefined || body.data === null) {
      throw new KaoheError("the answer has no data", "UNKNOWN", res.status);
    }
    return body.data;
  }

  /** Uses this access token for the following requests. */
  signedIn(accessToken: string): void {
    this.token = accessToken;
  }
}
