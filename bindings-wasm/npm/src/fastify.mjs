// tessera-policy/fastify: a Fastify 5 plugin over the policy's operations table.
//
//   import tessera from "tessera-policy/fastify";
//   await app.register(tessera, { realm, owners: (request) => devices.owner(request.params.id) });
//
// An onRequest hook on the whole instance (the plugin is not encapsulated)
// checks every request, the not-found handler's included, before its body is
// read; `request.principal` holds the principal. Refusals are JSON: 400
// {error: "invalid_path"}, 401 {error: code} with WWW-Authenticate, 403
// {error: "forbidden", reason}, 404 {error: "not_found"} (or through with
// unknown: "pass").
import { Guard, Outcome, authorizationOf } from "./http-guard.mjs";

/** The plugin; options as the Guard's (engine, realm, keys, authenticate, unknown, now) plus `owners(request)`. */
export async function tessera(fastify, options = {}) {
  const guard = new Guard(options);
  const owners = options.owners ?? null;
  fastify.decorateRequest("principal", null);
  fastify.decorate("tessera", guard);
  const answer = (request, reply, done, outcome) => {
    if (!outcome.allowed) {
      reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
      return;
    }
    request.principal = outcome.principal;
    done();
  };
  // A callback hook, not an async one: a request whose token was verified
  // before is answered with no promise.
  fastify.addHook("onRequest", (request, reply, done) => {
    const raw = request.raw;
    try {
      const outcome = guard.checkNow(
        raw.method,
        raw.url,
        undefined,
        authorizationOf(raw),
        owners && (() => owners(request)),
      );
      if (outcome instanceof Outcome) return answer(request, reply, done, outcome);
      outcome.then((o) => answer(request, reply, done, o)).catch(done);
    } catch (e) {
      done(e);
    }
  });
}

// What fastify-plugin sets: the hook and decorators apply to the instance that
// registers the plugin, not to a child context.
tessera[Symbol.for("skip-override")] = true;
tessera[Symbol.for("fastify.display-name")] = "tessera-policy";

export { Guard, Outcome };
export default tessera;
