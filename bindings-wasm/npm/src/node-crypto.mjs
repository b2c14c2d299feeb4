// `node:crypto` as the synchronous signature primitive (SPEC §6.1.1), for the
// server module: provider JWTs (RS*, PS*, ES256/ES384 with IEEE P1363
// signatures, EdDSA, HS*), and the HMAC-SHA256 and Ed25519 signatures of
// sessions. The core calls `hostCrypto` in the middle of a check
// (bindings-wasm/src/host.rs); imported keys are kept by RFC 7638 thumbprint.
// Whatever node:crypto throws is a signature that does not verify.
import { constants, createHmac, createPrivateKey, createPublicKey, createSecretKey, sign, timingSafeEqual, verify } from "node:crypto";

const HASH = { 256: "sha256", 384: "sha384", 512: "sha512" };
const PSS = constants.RSA_PKCS1_PSS_PADDING;

/** KeyObjects by thumbprint; emptied when full (a key costs one import again). */
const keys = new Map();
const KEYS_KEPT = 256;

/** PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410 §7). */
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");

function ed25519Private(seed) {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: "der", type: "pkcs8" });
}

function verifies(alg, key, message, signature) {
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  switch (family) {
    case "RS":
      return verify(hash, message, key, signature);
    case "PS":
      // JWS: MGF1 with the same hash, salt as long as the hash (RFC 7518 §3.5).
      return verify(hash, message, { key, padding: PSS, saltLength: Number(alg.slice(2)) / 8 }, signature);
    case "ES":
      return verify(hash, message, { key, dsaEncoding: "ieee-p1363" }, signature);
    case "Ed":
      return alg === "EdDSA" && verify(null, message, key, signature);
    case "HS": {
      const mac = createHmac(hash, key).update(message).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    }
    default:
      return false;
  }
}

/** The object `install_host_crypto` takes (see `Host` in bindings-wasm/src/host.rs). */
export const hostCrypto = {
  verify(alg, thumbprint, message, signature) {
    const key = keys.get(thumbprint);
    if (key === undefined) return 2;
    try {
      return verifies(alg, key, message, signature) ? 1 : 0;
    } catch {
      return 0;
    }
  },
  importKey(alg, thumbprint, jwk) {
    try {
      const j = JSON.parse(jwk);
      const key = j.kty === "oct" ? createSecretKey(Buffer.from(j.k, "base64url")) : createPublicKey({ key: j, format: "jwk" });
      if (keys.size >= KEYS_KEPT) keys.clear();
      keys.set(thumbprint, key);
      return true;
    } catch {
      return false;
    }
  },
  sign(alg, secret, message) {
    try {
      if (alg === "HS256") return createHmac("sha256", secret).update(message).digest();
      if (alg === "EdDSA") return sign(null, message, ed25519Private(secret));
    } catch {
      // Unusable secret: the core reports it.
    }
    return undefined;
  },
  ed25519Public(seed) {
    try {
      return Buffer.from(createPublicKey(ed25519Private(seed)).export({ format: "jwk" }).x, "base64url");
    } catch {
      return undefined;
    }
  },
};
