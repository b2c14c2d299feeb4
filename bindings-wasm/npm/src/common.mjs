// What every entry (server, browser, decisions-only) exports alike: the error
// classes, the label helpers and the core's reason table, and the fast path.
// Each entry adds its own `Engine` (with the methods its module holds).
export {
  TesseraError,
  LabelError,
  PolicyError,
  TokenError,
  ArgumentError,
  RealmError,
  InternalError,
} from "./errors.mjs";
export { parseLabel, formatLabel, reasons, definePolicy } from "./engine.mjs";
export { PreparedPrincipal } from "./fastpath.mjs";
