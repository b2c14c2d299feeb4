// tessera-policy/express: Express 5 middleware over the policy's operations table.
//
//   import { tessera } from "tessera-policy/express";
//   const guard = tessera({ realm, owners: (req) => devices.owner(req.params.id) });
//   app.use(guard.prefilter);                   // first: refused paths and unknown operations,
//                                               // before Express decodes params (a `%zz` would throw)
//   app.get("/api/v1/devices/:id", guard, h);   // each route (req.params set for the owners hook)
//   app.use(guard);                             // or every request (req.params is empty there)
//
// The principal is `req.principal` and `res.locals.principal`. Refusals are
// JSON: 400 {error: "invalid_path"}, 401 {error: code} with WWW-Authenticate,
// 403 {error: "forbidden", reason}, 404 {error: "not_found"} (or next() with
// unknown: "pass").
import { Guard, Outcome, authorizationOf } from "./http-guard.mjs";

const ANONYMOUS = Symbol("tessera.anonymous");

function send(res, outcome) {
  for (const [name, value] of Object.entries(outcome.headers)) res.set(name, value);
  res.status(outcome.status).json(outcome.body);
}

/** The middleware; options as the Guard's (engine, realm, keys, authenticate, unknown, now) plus `owners(req)`. */
export function tessera(options = {}) {
  const guard = new Guard(options);
  const owners = options.owners ?? null;
  const admit = (req, res, next, outcome) => {
    if (!outcome.allowed) return send(res, outcome);
    req.principal = outcome.principal;
    res.locals.principal = outcome.principal;
    next();
  };
  // Not async: a request whose token was verified before is answered with no promise.
  const middleware = function tesseraGuard(req, res, next) {
    try {
      const outcome = guard.checkNow(
        req.method,
        req.originalUrl ?? req.url,
        req[ANONYMOUS],
        authorizationOf(req),
        owners && (() => owners(req)),
      );
      if (outcome instanceof Outcome) return admit(req, res, next, outcome);
      outcome.then((o) => admit(req, res, next, o)).catch(next);
    } catch (e) {
      next(e);
    }
  };
  middleware.guard = guard;
  // Answers what needs no credential before routing, and hands the answer on.
  middleware.prefilter = function tesseraPrefilter(req, res, next) {
    try {
      const operation = guard.operation(req.method, req.originalUrl ?? req.url);
      const early = guard.anonymous(operation);
      if (early && !early.allowed) return send(res, early);
      req[ANONYMOUS] = { operation, early };
      next();
    } catch (e) {
      next(e);
    }
  };
  return middleware;
}

export { Guard, Outcome };
export default tessera;
