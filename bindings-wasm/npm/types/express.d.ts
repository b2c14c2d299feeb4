// Type declarations of tessera-policy/express (Express 5). Structural types,
// so that they need no @types/express.
import type { Principal } from "./shapes.js";
import type { Guard, GuardOptions } from "./http-guard.js";
export type { Guard, GuardKeys, GuardOptions, Outcome, OwnersAnswer } from "./http-guard.js";

/** The request as the middleware reads it (an Express `Request`). */
export interface GuardedRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  headersDistinct?: Record<string, string[] | undefined>;
  params?: Record<string, string>;
  principal?: Principal | null;
}

/** An Express middleware with its guard. */
export interface TesseraMiddleware {
  (req: any, res: any, next: (err?: unknown) => void): Promise<void>;
  readonly guard: Guard;
  /** Answers refused paths (400) and unknown operations (404) before routing; `app.use` it first. */
  readonly prefilter: (req: any, res: any, next: (err?: unknown) => void) => void;
}

/** The middleware: `app.use(tessera({ realm, owners }))`, or on one route. */
export declare function tessera(options: GuardOptions<GuardedRequest>): TesseraMiddleware;
export default tessera;
