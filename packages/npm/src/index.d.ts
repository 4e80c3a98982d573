// @yibao/engine's API. The data types are generated (schema.d.ts, by openapi-typescript) from the
// OpenAPI document the Rust types derive (utoipa) — the same document the HTTP API serves — so a
// field added in Rust appears here on the next build. Only the functions below are written by hand.

import type { components } from './schema.js';

type Schemas = components['schemas'];

/** An answer's types: money there is always a decimal string (`"223500.00"`); requests may also
 * give whole yuan as integers. */
type Exact<T> = (string extends T ? (number extends T ? true : false) : false) extends true
  ? Exclude<T, number>
  : T extends (infer U)[]
    ? Exact<U>[]
    : T extends object
      ? { [K in keyof T]: Exact<T[K]> }
      : T;

/** An amount in yuan: a decimal string with at most two decimals (`"30000"`, `"1234.56"`), or
 * a whole number of yuan. Never a fractional JS number. */
export type Money = Schemas['Money'];
/** One claim: its date, care type, amounts and the facts the policy asks about. */
export type Claim = Schemas['Claim'];
/** A claim's bill: `total` and the parts paid by the patient whatever the policy. */
export type Amounts = Schemas['Amounts'];
/** One person's year so far: what each layer and pool has used. */
export type YtdState = Exact<Schemas['YtdState']>;
/** Settle one claim (`claim`) or one person's claims of a year (`claims`), not both. */
export type EstimateRequest = Schemas['EstimateRequest'];
/** The settlements in order, the state after the last claim, and notices. */
export type EstimateAnswer = Exact<Schemas['EstimateAnswer']>;
/** One claim's settlement: each layer's payment, the fund total, what the patient pays. */
export type Settlement = Exact<Schemas['Settlement']>;
/** A notice about the rules behind a result (stale rules, a known deviation). */
export type Notice = Exact<Schemas['Notice']>;
/** Many persons' claims (up to 10,000); each person's (`person`) in the order given. */
export type BatchRequest = Schemas['BatchRequest'];
/** Counts and one item per claim, in input order. */
export type BatchAnswer = Exact<Schemas['BatchAnswer']>;
/** One claim's outcome in a batch: its settlement or its error. */
export type BatchItem = Exact<Schemas['BatchItem']>;
/** A bundled policy version: effective date, content hash, provenance counts, choices. */
export type VersionInfo = Exact<Schemas['VersionInfo']>;
/** The figures of a version. */
export type VersionParams = Exact<Schemas['VersionParams']>;
/** One figure: the path an override names, its value, provenance and source. */
export type ParamInfo = Exact<Schemas['ParamInfo']>;
/** Diagnostics of a policy text. */
export type CheckAnswer = Exact<Schemas['CheckAnswer']>;
/** The error body, as the HTTP API sends it. */
export type ApiError = Exact<Schemas['ApiError']>;
/** What a year is settled under: an estimate request without claims. */
export type YearOptions = Omit<EstimateRequest, 'claim' | 'claims'>;

/** A request the engine refused. `kind`, `code`, `path`, `fields` and `allowed` are the error
 * body's; `error` is that body whole. */
export class YibaoError extends Error {
  readonly name: 'YibaoError';
  readonly kind: ApiError['kind'];
  readonly code: ApiError['code'];
  readonly path: string | null;
  readonly fields: Record<string, string>;
  readonly allowed: string[];
  readonly error: ApiError;
}

/** Settles one claim or one person's claims of a year in date order, under the bundled
 * policies. Throws a YibaoError for a request it cannot settle. */
export function estimate(request: EstimateRequest): EstimateAnswer;

/** Settles up to 10,000 claims of many persons; a claim's own error is in its item. */
export function estimateBatch(request: BatchRequest): BatchAnswer;

/** Every bundled policy version. */
export function policies(): VersionInfo[];

/** The figures of a version (`'tianjin.resident'`, `'2023-01-01'`): what `overrides` may name. */
export function params(policy: string, version: string): VersionParams;

/** Diagnostics for a policy text; returned whatever the policy says (`ok` tells). */
export function check(policyText: string, name?: string): CheckAnswer;

/** One person's year, settled a claim at a time: each claim sees what the ones before used of
 * the deductibles and caps, exactly as `estimate` with all the claims at once. */
export class Year {
  constructor(options?: YearOptions);
  /** Settles the next claim (not dated before the last); a refused claim leaves the year as it
   * was. The answer holds its settlement, the state after it and its notices. */
  settle(claim: Claim): EstimateAnswer;
  /** The year so far: a request's `state`, to go on elsewhere. */
  readonly state: YtdState;
  /** How many claims have been settled. */
  readonly settled: number;
  /** Frees the WebAssembly memory now rather than at garbage collection. */
  free(): void;
}

/** The bundled policies plus policy files of your own; a file replaces the bundled version with
 * the same id and effective date. */
export class Engine {
  constructor(files?: Array<[name: string, text: string]> | Record<string, string>);
  estimate(request: EstimateRequest): EstimateAnswer;
  estimateBatch(request: BatchRequest): BatchAnswer;
  year(options?: YearOptions): Year;
  free(): void;
}

// ESM only (index.mjs has a default export; index.cjs is the module object itself):
declare const yibao: {
  estimate: typeof estimate;
  estimateBatch: typeof estimateBatch;
  policies: typeof policies;
  params: typeof params;
  check: typeof check;
  Year: typeof Year;
  Engine: typeof Engine;
  YibaoError: typeof YibaoError;
};
export default yibao;
