// base.js - what the modules of parley.js share: the meeting states and
// modes, failures as the application sees them (ParleyError, a catalog
// error by code, a leave reason), the event emitter, and mixin(), which
// assembles the Meeting class from the modules that own its parts.
import { catalog, leaveReasons } from "./errors.js";

export const STATES = Object.freeze({
  CONNECTING: "CONNECTING",
  CONNECTED: "CONNECTED",
  RECONNECTING: "RECONNECTING",
  FAILED: "FAILED",
  DISCONNECTED: "DISCONNECTED",
});
export const MODES = ["CONFERENCE", "VIEWER", "SEND_AND_RECV", "SIGNALLING_ONLY"];

const CATALOG_BY_CODE = new Map(catalog.map((e) => [e.code, e]));
const LEAVE_MESSAGES = {
  1101: "leave() was called",
  1102: "the connection to the server was lost and could not be resumed",
  1103: "the meeting could not be joined",
};

export function leaveReason(code, message) {
  const name = Object.keys(leaveReasons).find((n) => leaveReasons[n] === code) || "UNKNOWN";
  return { code, name, message: message || LEAVE_MESSAGES[code] || name };
}

/** A failure as an Error: code, name, message and the event's context. */
export class ParleyError extends Error {
  constructor(info) {
    super(info.message);
    Object.assign(this, info);
    this.name = info.name || "ParleyError";
  }
}

export function localError(code, context = {}) {
  const e = CATALOG_BY_CODE.get(code);
  return { code, name: e ? e.name : "UNKNOWN_ERROR", message: e ? e.message : `error ${code}`, ...context };
}

/** What emits events: on(event, fn), off(event, fn?), emit(event, ...args);
 * a handler that throws does not stop the others. */
export class Emitter {
  constructor() {
    this._handlers = new Map();
  }
  on(event, fn) {
    if (typeof fn !== "function") throw new TypeError("on(event, fn): fn must be a function");
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return this;
  }
  off(event, fn) {
    const set = this._handlers.get(event);
    if (set) fn ? set.delete(fn) : set.clear();
    return this;
  }
  emit(event, ...args) {
    for (const fn of [...(this._handlers.get(event) || [])]) {
      try {
        fn(...args);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }
}

/** Copy the methods of each source class onto target's prototype: the
 * Meeting's parts live in their own modules. */
export function mixin(target, ...sources) {
  for (const src of sources) {
    for (const name of Object.getOwnPropertyNames(src.prototype)) {
      if (name !== "constructor") Object.defineProperty(target.prototype, name, Object.getOwnPropertyDescriptor(src.prototype, name));
    }
  }
}
