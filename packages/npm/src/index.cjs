'use strict';
// @yibao/engine: the yibao WebAssembly module with objects in and out. Every rule runs in Rust
// (the module is the same facade the command line and the HTTP server call); this file only turns
// objects into JSON text and back, and a refusal into a thrown YibaoError. Money stays a decimal
// string: nothing here does arithmetic.

const wasm = require('./yibao_wasm.cjs');

/** A request the engine refused: the same `{kind, code, path, message, fields, allowed}` as the
 * HTTP API's error body. */
class YibaoError extends Error {
  constructor(error) {
    super(error && typeof error.message === 'string' ? error.message : String(error));
    this.name = 'YibaoError';
    /** `request`, `not_found`, `policy`, `unavailable` or `internal`. */
    this.kind = error?.kind ?? 'internal';
    /** A stable name of the mistake (`amount_precision`, `unknown_choice`, …). */
    this.code = error?.code ?? null;
    /** The field at fault (`claim.amounts.total`), when one is. */
    this.path = error?.path ?? null;
    /** The mistake's facts, for wording it yourself. */
    this.fields = error?.fields ?? {};
    /** What would have been accepted (policies, versions, choices), when known. */
    this.allowed = error?.allowed ?? [];
    /** Policy diagnostics, when the error comes from a policy text (an unknown override). */
    if (error?.diagnostics !== undefined) this.diagnostics = error.diagnostics;
    /** The error object exactly as the engine wrote it. */
    this.error = error;
  }
}

/** The answer of a framed `{"ok":true,"answer":…}` / `{"ok":false,"error":…}` text, or throws. */
function unwrap(text) {
  const framed = JSON.parse(text);
  if (framed.ok) return framed.answer;
  throw new YibaoError(framed.error);
}

/** JSON text of a request object. Strings are refused so that a caller who meant an object does
 * not get a confusing "not an object" from the engine. */
function text(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`);
  }
  return JSON.stringify(value);
}

/** Runs `make` and turns a thrown framed error text (a constructor's refusal) into YibaoError. */
function constructed(make) {
  try {
    return make();
  } catch (e) {
    if (typeof e === 'string' && e.startsWith('{')) unwrap(e);
    throw e;
  }
}

/** One person's year, settled a claim at a time; each claim sees what the ones before used of
 * the deductibles and caps, exactly as `estimate` with all the claims at once. */
class Year {
  /** @param {object} options `{policy, version, overrides, state, trace}` as in an estimate
   * request, without claims. */
  constructor(options = {}, engine) {
    const request = text(options, 'the year\'s options');
    this._inner = constructed(() => (engine ? engine.year(request) : new wasm.Year(request)));
  }
  /** Settles the next claim (not dated before the last one). A refused claim leaves the year as
   * it was. */
  settle(claim) {
    text(claim, 'a claim');
    return unwrap(this._inner.settle(JSON.stringify({ claim })));
  }
  /** The year so far (pass it as a request's `state` to go on elsewhere). */
  get state() {
    return JSON.parse(this._inner.state());
  }
  /** How many claims have been settled. */
  get settled() {
    return this._inner.settled();
  }
  /** Frees the WebAssembly memory now (otherwise when the object is garbage-collected). */
  free() {
    this._inner.free();
  }
}

/** The bundled policies plus policy files of your own (`[[name, text], …]` or `{name: text}`): a
 * file replaces the bundled version with the same id and effective date. */
class Engine {
  constructor(files = []) {
    const pairs = Array.isArray(files) ? files : Object.entries(files);
    this._inner = constructed(() => new wasm.Engine(JSON.stringify(pairs)));
  }
  estimate(request) {
    return unwrap(this._inner.estimate(text(request, 'the request')));
  }
  estimateBatch(request) {
    return unwrap(this._inner.estimate_batch(text(request, 'the request')));
  }
  year(options = {}) {
    return new Year(options, this._inner);
  }
  free() {
    this._inner.free();
  }
}

/** Settles one claim (`claim`) or one person's claims of a year in date order (`claims`) under
 * the bundled policies. */
function estimate(request) {
  return unwrap(wasm.estimate(text(request, 'the request')));
}

/** Settles up to 10,000 claims of many persons; each person's (`person`) claims in the order
 * given. A claim's own error is in its item. */
function estimateBatch(request) {
  return unwrap(wasm.estimate_batch(text(request, 'the request')));
}

/** Every bundled policy version: effective dates, content hashes, provenance counts, the
 * choices a form offers (`dims`). */
function policies() {
  return unwrap(wasm.policies());
}

/** The figures of a version (`tianjin.resident`, `2023-01-01`): the paths `overrides` may name,
 * values, provenance, sources and clauses. */
function params(policy, version) {
  return unwrap(wasm.params(String(policy), String(version)));
}

/** Diagnostics for a policy text (a text that `extends` a bundled version is checked against
 * it). The answer is returned whatever the policy says; `ok` tells. */
function check(policyText, name = 'draft.policy') {
  if (typeof policyText !== 'string') throw new TypeError('the policy text must be a string');
  return unwrap(wasm.check(String(name), policyText));
}

module.exports = { estimate, estimateBatch, policies, params, check, Year, Engine, YibaoError };
