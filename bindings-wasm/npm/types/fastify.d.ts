// Type declarations of tessera-policy/fastify (Fastify 5). Structural types,
// so that they need no fastify types.
import type { Principal } from "./shapes.js";
import type { GuardOptions } from "./http-guard.js";
export type { Guard, GuardKeys, GuardOptions, Outcome, OwnersAnswer } from "./http-guard.js";

/** The request as the owners hook sees it (a Fastify `FastifyRequest`). */
export interface GuardedRequest {
  params: unknown;
  principal: Principal | null;
  raw: { method?: string; url?: string };
}

/** The plugin: `await app.register(tessera, { realm, owners })`. */
export declare function tessera(fastify: any, options: GuardOptions<GuardedRequest>): Promise<void>;
export default tessera;
