// Wycheproof (C2SP) vectors through the package's own paths, in any runtime:
// the same walk as core/tests/token_wycheproof.rs (the reference, with the
// same documented exceptions), but with the signature primitive of the host —
// node:crypto in Node (verifyJwsSync / verifySignatureSync and the async
// forms), WebCrypto in Chromium (verifyJws / verifySignature).
//
//   const tallies = await runWycheproof(tessera, docs, { sync: true });
//   // → [{ file, validAccepted, invalidRejected, acceptable, excepted, failures: [...] }]
//
// `docs` maps file names to parsed JSON; nothing here reads files, so a page
// can run it.

const ALL = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/** Where the answer on a JWS vector differs from the file's (see the Rust test for why). */
function jwsException(id) {
  if (id === 367 || id === 370) return ["byte-identical to valid tcId 357", true];
  if (id === 372 || id === 373) return ["`?` in a segment: not canonical base64url (SPEC §6.1)", false];
  if (id === 346 || id === 350) return ["JWK alg PS256 differs from token alg PS384 (SPEC §6.1)", false];
  if (id === 347 || id === 351) return ["ES512/P-521 is not a supported algorithm", false];
  return null;
}

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const b64 = (bytes) => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
};

class Tally {
  constructor(file) {
    Object.assign(this, { file, validAccepted: 0, invalidRejected: 0, acceptable: 0, excepted: 0, failures: [] });
  }
  record(tc, result, exception) {
    if (exception) {
      const [why, accept] = exception;
      if (result.ok === accept) this.excepted += 1;
      else this.failures.push(`tcId ${tc.tcId}: documented exception (${why}) not honoured: ${JSON.stringify(result)}`);
      return;
    }
    if (tc.result === "valid" && result.ok) this.validAccepted += 1;
    else if (tc.result === "invalid" && !result.ok) this.invalidRejected += 1;
    else if (tc.result === "acceptable" && !result.ok) this.acceptable += 1;
    else this.failures.push(`tcId ${tc.tcId} (${tc.comment}): expected ${tc.result}, got ${JSON.stringify(result)}`);
  }
}

/** `{ok}` or `{ok: false, code}`; anything but a TesseraError is a failure of its own. */
async function outcome(t, f) {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof t.TesseraError)) return { ok: false, code: `not a TesseraError: ${e}` };
    return { ok: false, code: e.code };
  }
}

export async function runWycheproof(t, docs, { sync }) {
  const jws = sync ? (...a) => t.verifyJwsSync(...a) : (...a) => t.verifyJws(...a);
  const sig = sync ? (...a) => t.verifySignatureSync(...a) : (...a) => t.verifySignature(...a);
  const out = [];
  const walk = async (file, each) => {
    const tally = new Tally(file);
    for (const group of docs[file].testGroups) for (const tc of group.tests) await each(group, tc, tally);
    out.push(tally);
    return tally;
  };
  await walk("json_web_signature_test.json", async (group, tc, tally) => {
    const jwks = { keys: [group.public ?? group.private] };
    const token = typeof tc.jws === "string" ? tc.jws : JSON.stringify(tc.jws);
    tally.record(tc, await outcome(t, () => jws(token, jwks, ALL)), jwsException(tc.tcId));
  });
  const jwk = await walk("json_web_key_test.json", async (group, tc, tally) => {
    const result = await outcome(t, () => jws(tc.jws, group.public ?? group.private, ALL));
    tally.codes = tally.codes ?? new Map();
    tally.codes.set(tc.tcId, result.code);
    tally.record(tc, result, null);
  });
  // The reasons matter as much as the rejection (as in the Rust test).
  for (const [id, code] of [[1, "invalid_argument"], [4, "invalid_argument"], [7, "weak_key"], [8, "weak_key"], [9, "weak_key"], [10, "weak_key"], [19, "unsupported_alg"], [21, "unknown_key"]]) {
    if (jwk.codes.get(id) !== code) jwk.failures.push(`tcId ${id}: code ${jwk.codes.get(id)}, expected ${code}`);
  }
  delete jwk.codes;
  const ec = (crv, size) => (g) => {
    const p = hex(g.publicKey.uncompressed);
    return { kty: "EC", crv, x: b64(p.slice(1, 1 + size)), y: b64(p.slice(1 + size)) };
  };
  const rsa = (g) => ({ kty: "RSA", n: b64(hex(g.publicKey.modulus)), e: b64(hex(g.publicKey.publicExponent)) });
  const files = [
    ["ecdsa_secp256r1_sha256_p1363_test.json", "ES256", ec("P-256", 32)],
    ["ecdsa_secp384r1_sha384_p1363_test.json", "ES384", ec("P-384", 48)],
    ["ed25519_test.json", "EdDSA", (g) => ({ kty: "OKP", crv: "Ed25519", x: b64(hex(g.publicKey.pk)) })],
    ["rsa_signature_2048_sha256_test.json", "RS256", rsa],
    ["rsa_signature_3072_sha256_test.json", "RS256", rsa],
    ["rsa_signature_4096_sha256_test.json", "RS256", rsa],
  ];
  for (const [file, alg, jwkOf] of files) {
    await walk(file, async (group, tc, tally) => {
      tally.record(tc, await outcome(t, () => sig(alg, jwkOf(group), hex(tc.msg), hex(tc.sig))), null);
    });
  }
  await walk("hmac_sha256_test.json", async (group, tc, tally) => {
    const key = hex(tc.key);
    const result = await outcome(t, () => sig("HS256", { kty: "oct", k: b64(key) }, hex(tc.msg), hex(tc.tag)));
    // JWS HS256 needs a key of 256 bits or more and the full tag (RFC 7518 §3.2).
    let exception = null;
    if (tc.result === "valid" && group.keySize < 256) exception = ["key under 256 bits: weak_key", false];
    else if (tc.result === "valid" && group.tagSize !== 256) exception = ["truncated tag: not an HS256 signature", false];
    if (exception && !result.ok) {
      const want = group.keySize < 256 ? "weak_key" : "bad_signature";
      if (result.code !== want) tally.failures.push(`tcId ${tc.tcId}: code ${result.code}, expected ${want}`);
    }
    tally.record(tc, result, exception);
  });
  return out.map((t) => ({ ...t }));
}

export const WYCHEPROOF_FILES = [
  "json_web_signature_test.json",
  "json_web_key_test.json",
  "ecdsa_secp256r1_sha256_p1363_test.json",
  "ecdsa_secp384r1_sha384_p1363_test.json",
  "ed25519_test.json",
  "rsa_signature_2048_sha256_test.json",
  "rsa_signature_3072_sha256_test.json",
  "rsa_signature_4096_sha256_test.json",
  "hmac_sha256_test.json",
];
