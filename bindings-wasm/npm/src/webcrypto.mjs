// WebCrypto (`crypto.subtle`) as the signature primitive where `node:crypto`
// is missing (browsers, workers): the asynchronous half of SPEC §6.1.1. The
// core has checked everything but the signature and holds its verdict in a
// `RawPending`; this verifies the one signature and hands the answer back.
// Whatever WebCrypto throws (a key it cannot import, an algorithm it lacks) is
// a signature that does not verify, as natively: never an exception of its own.
import * as raw from "./tessera_wasm.js";
import { caught, errorOf, invoke } from "./errors.mjs";

/** What each JWS algorithm is in WebCrypto: import parameters and verify parameters. */
const ALGORITHMS = {
  RS256: rsa("RSASSA-PKCS1-v1_5", "SHA-256"),
  RS384: rsa("RSASSA-PKCS1-v1_5", "SHA-384"),
  RS512: rsa("RSASSA-PKCS1-v1_5", "SHA-512"),
  PS256: rsa("RSA-PSS", "SHA-256", 32),
  PS384: rsa("RSA-PSS", "SHA-384", 48),
  PS512: rsa("RSA-PSS", "SHA-512", 64),
  // WebCrypto's ECDSA signatures are IEEE P1363 (r || s), as JWS's.
  ES256: { importAs: { name: "ECDSA", namedCurve: "P-256" }, verifyAs: { name: "ECDSA", hash: "SHA-256" } },
  ES384: { importAs: { name: "ECDSA", namedCurve: "P-384" }, verifyAs: { name: "ECDSA", hash: "SHA-384" } },
  EdDSA: { importAs: { name: "Ed25519" }, verifyAs: { name: "Ed25519" } },
  HS256: hmac("SHA-256"),
  HS384: hmac("SHA-384"),
  HS512: hmac("SHA-512"),
};

function rsa(name, hash, saltLength) {
  return { importAs: { name, hash }, verifyAs: saltLength === undefined ? { name } : { name, saltLength } };
}

function hmac(hash) {
  return { importAs: { name: "HMAC", hash }, verifyAs: { name: "HMAC" } };
}

/** Imported keys by algorithm and RFC 7638 thumbprint (a CryptoKey is bound to its algorithm). */
const keys = new Map();
const KEYS_KEPT = 256;

/** `pending`'s key, imported once; its JWK is asked of the core only on a miss. */
async function importKey(alg, pending, subtle) {
  const id = `${alg} ${pending.thumbprint()}`;
  let key = keys.get(id);
  if (key === undefined) {
    key = subtle.importKey("jwk", JSON.parse(pending.jwk()), ALGORITHMS[alg].importAs, false, ["verify"]);
    if (keys.size >= KEYS_KEPT) keys.clear();
    keys.set(id, key);
    // A key that failed to import is not kept: the next token tries again.
    key.catch(() => keys.delete(id));
  }
  return key;
}

/** Whether the pending signature verifies under WebCrypto; false for anything it cannot do. */
async function verify(pending, subtle) {
  const alg = pending.algorithm();
  const spec = ALGORITHMS[alg];
  if (spec === undefined) return false;
  try {
    const key = await importKey(alg, pending, subtle);
    return await subtle.verify(spec.verifyAs, key, pending.signature(), pending.message());
  } catch {
    return false;
  }
}

/**
 * The core's verdict (JSON text) for a `RawPending`, once its signature is
 * answered; rejects with a TesseraError. Frees the pending check.
 */
export async function settle(pending) {
  try {
    if (invoke(() => pending.settled())) return invoke(() => pending.finish(false));
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    if (!subtle) throw errorOf(JSON.parse(raw.unsupported_runtime()));
    const verified = await verify(pending, subtle);
    return invoke(() => pending.finish(verified));
  } catch (e) {
    throw caught(e);
  } finally {
    pending.free();
  }
}
