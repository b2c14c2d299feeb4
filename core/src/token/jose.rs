//! JOSE plumbing shared by provider JWTs and sessions: compact JWS parsing
//! with the strict rules of SPEC §6.1, JWK → key, and the one
//! signature-verification path every token (and the Wycheproof suite) uses.
//!
//! Only the signature primitive is not here (see `signature.rs`: aws-lc-rs
//! natively, the host's crypto in WebAssembly). Everything around it —
//! segment and base64url rules, duplicate JSON keys, algorithm/key agreement,
//! key strength — is checked here so that every backend answers identically.

pub(crate) use super::alg::{Alg, KeyKind};
use super::signature::{self, PublicKey, SignatureCheck};
use crate::error::{Error, Result};
use crate::token::ed25519;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Per-engine token state: the cache of verified signatures, shared by every
/// policy the engine loads (entries are keyed by key material, so a policy
/// or JWKS change never reuses a stale verdict).
#[derive(Debug, Default)]
pub struct TokenState {
    pub(crate) signatures: SignatureCache,
}

/// Tokens longer than this are refused before anything is decoded (`too_large`).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Decodes one base64url segment: URL-safe alphabet, no padding, and
/// canonical (unused trailing bits zero), so every token has one spelling.
pub(crate) fn b64url(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}

pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS split and decoded, nothing verified yet.
#[derive(Debug)]
pub(crate) struct Compact<'a> {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
    /// `BASE64URL(header) "." BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Step one of SPEC §6.1: size, three canonical base64url segments, and a
/// header that is a JSON object without duplicate keys.
pub(crate) fn parse_compact(token: &str) -> Result<Compact<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::token(
            "too_large",
            format!(
                "token is {} bytes; at most {MAX_TOKEN_BYTES} are accepted",
                token.len()
            ),
        ));
    }
    if let Some((scheme, _)) = token.trim_start().split_once(' ') {
        if scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::token(
                "malformed",
                "this is an Authorization header value, not a token: pass it through \
                 parse_authorization first and verify the token it returns",
            ));
        }
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Error::token(
            "malformed",
            "a token has exactly three dot-separated segments",
        ));
    };
    if h.is_empty() {
        return Err(Error::token("malformed", "empty header segment"));
    }
    let decode = |seg: &str, what: &str| {
        b64url(seg)
            .ok_or_else(|| Error::token("malformed", format!("{what} is not canonical unpadded base64url")))
    };
    let header = strict_object(&decode(h, "header")?, "header")?;
    // `alg: none` is refused as such whatever follows: its signature segment
    // is typically empty, and that must not read as a mere format error.
    if let Some(Value::String(alg)) = header.get("alg") {
        if alg.eq_ignore_ascii_case("none") {
            return Err(Error::token("unsupported_alg", "`alg: none` is never accepted"));
        }
    }
    if s.is_empty() {
        return Err(Error::token("malformed", "empty signature segment"));
    }
    let payload = decode(p, "payload")?;
    let signature = decode(s, "signature")?;
    Ok(Compact {
        header,
        payload,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature,
    })
}

/// Parses JSON that must be an object, refusing duplicate keys at any depth
/// (two parsers could otherwise read different claims from one token).
pub(crate) fn strict_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(Error::token("malformed", format!("{what} is not a JSON object"))),
        Err(e) => Err(Error::token(
            "malformed",
            format!("{what} is not valid JSON: {e}"),
        )),
    }
}

/// A `serde_json::Value` that fails to deserialize on a duplicate object key.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> std::result::Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(v) = access.next_value()?;
            map.insert(key, v);
        }
        Ok(Strict(Value::Object(map)))
    }
}

/// Why a JWK cannot verify (or sign) with a given algorithm. Each caller maps
/// these to its own codes (a JWKS key vs. a host-given session key).
#[derive(Debug)]
pub(crate) enum KeyFault {
    /// The algorithm does not fit the key (`alg`, `kty` or `crv` disagree).
    Alg(String),
    /// The key material is missing, malformed or unsupported.
    Unusable(String),
    /// The key is too weak to trust.
    Weak(String),
}

impl KeyFault {
    /// The codes of SPEC §6.1 for a key taken from a JWKS.
    pub(crate) fn into_jwks_error(self) -> Error {
        match self {
            KeyFault::Alg(m) => Error::token("unsupported_alg", m),
            KeyFault::Unusable(m) => Error::token("unknown_key", m),
            KeyFault::Weak(m) => Error::token("weak_key", m),
        }
    }
}

/// A public (or HMAC) key ready to verify signatures of one algorithm.
/// Shared, not copied: a key set's checked key, a pending check and a
/// remembered token hold the same one (a clone is a count, not a modulus).
#[derive(Clone)]
pub(crate) struct VerifyKey(Arc<KeyParts>);

/// What a [`VerifyKey`] holds.
pub(crate) struct KeyParts {
    pub alg: Alg,
    pub key: PublicKey,
    /// Bytes a valid signature has (fixed for every algorithm we support).
    signature_len: usize,
    /// The key's RFC 7638 thumbprint: identifies it in the caches (here and
    /// the host's imported keys).
    fingerprint: [u8; 32],
    /// `fingerprint` as base64url.
    pub thumbprint: String,
}

impl std::ops::Deref for VerifyKey {
    type Target = KeyParts;
    fn deref(&self) -> &KeyParts {
        &self.0
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    fn new(alg: Alg, key: PublicKey, signature_len: usize) -> VerifyKey {
        let fingerprint = key.thumbprint();
        VerifyKey(Arc::new(KeyParts {
            alg,
            key,
            signature_len,
            thumbprint: signature::thumbprint_text(&fingerprint),
            fingerprint,
        }))
    }

    /// The key's RFC 7638 thumbprint, as bytes.
    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.0.fingerprint
    }

    /// What the signature primitive is asked about `signature` over `message`.
    pub(crate) fn check<'a>(&'a self, message: &'a [u8], signature: &'a [u8]) -> SignatureCheck<'a> {
        SignatureCheck {
            algorithm: self.alg.name(),
            key: &self.key,
            thumbprint: &self.thumbprint,
            message,
            signature,
        }
    }

    /// Whether a signature has the one length a valid one has. The backends
    /// differ in what else they accept (leading zeros, DER for ECDSA), and no
    /// valid signature has another length.
    /// Ed25519 signatures must also be strictly encoded (S < L, a sound R;
    /// as ed25519-dalek's `verify_strict`), whatever primitive runs.
    pub(crate) fn fits(&self, signature: &[u8]) -> bool {
        signature.len() == self.signature_len
            && (self.alg != Alg::EdDSA || ed25519::strict_signature(signature))
    }
}

fn str_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> std::result::Result<Option<&'a str>, KeyFault> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyFault::Unusable(format!("JWK member `{name}` is not a string"))),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &str) -> std::result::Result<Vec<u8>, KeyFault> {
    let s = str_member(jwk, name)?.ok_or_else(|| KeyFault::Unusable(format!("JWK lacks `{name}`")))?;
    b64url(s).ok_or_else(|| KeyFault::Unusable(format!("JWK member `{name}` is not canonical base64url")))
}

fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Checks that `alg` fits `jwk` (its `alg`, `kty`, `crv`) and that the key
/// material is sound, and builds the verification key.
pub(crate) fn verify_key(alg: Alg, jwk: &Map<String, Value>) -> std::result::Result<VerifyKey, KeyFault> {
    if let Some(a) = str_member(jwk, "alg").map_err(|_| KeyFault::Alg("JWK `alg` is not a string".into()))? {
        if a != alg.name() {
            return Err(KeyFault::Alg(format!(
                "token algorithm {} differs from the key's `alg` {a}",
                alg.name()
            )));
        }
    }
    let kty = str_member(jwk, "kty")?.unwrap_or("");
    let crv = str_member(jwk, "crv").ok().flatten().unwrap_or("");
    let fits = match alg.kind() {
        KeyKind::Oct => kty == "oct",
        KeyKind::Rsa => kty == "RSA",
        KeyKind::Ec(c) => kty == "EC" && crv == c,
        KeyKind::Okp(c) => kty == "OKP" && crv == c,
    };
    if !fits {
        let what = if crv.is_empty() {
            kty.to_string()
        } else {
            format!("{kty}/{crv}")
        };
        return Err(KeyFault::Alg(format!(
            "algorithm {} cannot use a `{what}` key",
            alg.name()
        )));
    }
    match alg.kind() {
        KeyKind::Oct => {
            let k = bytes_member(jwk, "k")?;
            if k.len() < alg.min_secret() {
                return Err(KeyFault::Weak(format!(
                    "{} needs a secret of at least {} bytes, this one has {}",
                    alg.name(),
                    alg.min_secret(),
                    k.len()
                )));
            }
            let signature_len = alg.min_secret();
            Ok(VerifyKey::new(alg, PublicKey::Oct(k), signature_len))
        }
        KeyKind::Rsa => {
            let n = bytes_member(jwk, "n")?;
            let e = bytes_member(jwk, "e")?;
            let n = strip_zeros(&n);
            let e = strip_zeros(&e);
            let bits = bit_len(n);
            if bits < 2048 {
                return Err(KeyFault::Weak(format!(
                    "RSA key of {bits} bits; at least 2048 are required"
                )));
            }
            // The RustCrypto backend stops at 4096 bits; refusing larger keys
            // on every target keeps native and WebAssembly answers identical.
            if bits > 4096 {
                return Err(KeyFault::Unusable(format!(
                    "RSA keys over 4096 bits are not supported ({bits})"
                )));
            }
            let exponent = if e.len() <= 8 {
                e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            } else {
                u64::MAX
            };
            if exponent < 3 || exponent % 2 == 0 {
                return Err(KeyFault::Weak(format!(
                    "RSA public exponent {exponent} is unsafe"
                )));
            }
            if exponent >= 1 << 33 {
                return Err(KeyFault::Unusable("RSA public exponent is too large".into()));
            }
            if roca_fingerprint(n) {
                return Err(KeyFault::Weak(
                    "RSA key has the ROCA fingerprint (CVE-2017-15361)".into(),
                ));
            }
            let signature_len = n.len();
            Ok(VerifyKey::new(
                alg,
                PublicKey::Rsa {
                    n: n.to_vec(),
                    e: e.to_vec(),
                },
                signature_len,
            ))
        }
        KeyKind::Ec(_) => {
            let size = if alg == Alg::ES256 { 32 } else { 48 };
            let x = bytes_member(jwk, "x")?;
            let y = bytes_member(jwk, "y")?;
            if x.len() != size || y.len() != size {
                return Err(KeyFault::Unusable(format!(
                    "EC coordinates must be {size} bytes each"
                )));
            }
            let crv = if alg == Alg::ES256 { "P-256" } else { "P-384" };
            Ok(VerifyKey::new(alg, PublicKey::Ec { crv, x, y }, 2 * size))
        }
        KeyKind::Okp(_) => {
            let x = bytes_member(jwk, "x")?;
            if x.len() != 32 {
                return Err(KeyFault::Unusable(
                    "Ed25519 public key `x` must be 32 bytes".into(),
                ));
            }
            if let Some(why) = ed25519::weakness(&x) {
                return Err(KeyFault::Weak(format!("Ed25519 public key {why}")));
            }
            Ok(VerifyKey::new(alg, PublicKey::Ed25519 { x }, 64))
        }
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(top) => n.len() * 8 - top.leading_zeros() as usize,
    }
}

/// The ROCA test (Nemec et al., CCS 2017): keys from the flawed Infineon
/// generator have `n mod p` inside the subgroup generated by 65537 for every
/// small prime below; random keys fail this within a few primes.
fn roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
        103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        // n mod p, four bytes at a time (the first chunk may be shorter).
        let p64 = u64::from(p);
        let head = n.len() % 4;
        let mut r = n[..head]
            .iter()
            .fold(0u64, |acc, b| (acc << 8 | u64::from(*b)) % p64);
        for chunk in n[head..].chunks_exact(4) {
            let word = u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
            r = (r << 32 | word) % p64;
        }
        let r = r as u32;
        let g = 65537 % p;
        let mut x = 1u32;
        loop {
            if x == r {
                return true;
            }
            x = x * g % p;
            if x == 1 {
                return false;
            }
        }
    })
}

/// Verifies `signature` over `message` with `key`: the one path every token
/// takes (a signature of the wrong length is refused before the primitive is
/// asked). `unsupported_runtime` where there is no synchronous primitive.
pub(crate) fn verify_signature(key: &VerifyKey, message: &[u8], signature: &[u8]) -> Result<bool> {
    if !key.fits(signature) {
        return Ok(false);
    }
    signature::verify(&key.check(message, signature))
}

/// A private key for signing sessions: HS256 with its secret, or EdDSA with
/// its 32-byte seed.
pub(crate) struct SignKey {
    pub alg: Alg,
    secret: Vec<u8>,
}

impl SignKey {
    pub(crate) fn hs256(secret: &[u8]) -> SignKey {
        SignKey {
            alg: Alg::HS256,
            secret: secret.to_vec(),
        }
    }

    /// An Ed25519 key from its 32-byte seed (JWK `d`).
    pub(crate) fn ed25519(seed: &[u8; 32]) -> SignKey {
        SignKey {
            alg: Alg::EdDSA,
            secret: seed.to_vec(),
        }
    }

    /// The public key `x` of an Ed25519 signing key.
    pub(crate) fn ed25519_public(&self) -> Result<Option<Vec<u8>>> {
        signature::ed25519_public(&self.secret)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        signature::sign(self.alg, &self.secret, message)
    }
}

/// Signatures already verified, by hash of (algorithm, key, message,
/// signature), and keys already checked, by their JWK members themselves.
/// Holding only those mathematical facts keeps the cache sound: time,
/// policy and revocation checks run on every call regardless.
pub(crate) struct SignatureCache {
    inner: Mutex<CacheInner>,
    /// By the length-prefixed bytes of (algorithm, members): compared whole,
    /// which costs less per token than hashing them with SHA-256 in WebAssembly.
    keys: Mutex<HashMap<Vec<u8>, VerifyKey>>,
}

#[derive(Default)]
struct CacheInner {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

/// Entries kept; the oldest is dropped first. 4096 × ~80 bytes ≈ 330 KB.
const CACHE_CAPACITY: usize = 4096;

/// Checked keys kept (a JWKS rarely has more than a handful); the map is
/// emptied when full, a key costs one re-check afterwards.
const KEY_CAPACITY: usize = 256;

/// The JWK members that define a key for an algorithm.
const KEY_MEMBERS: [&str; 9] = ["kty", "alg", "crv", "k", "n", "e", "x", "y", "use"];

impl Default for SignatureCache {
    fn default() -> Self {
        SignatureCache {
            inner: Mutex::new(CacheInner::default()),
            keys: Mutex::new(HashMap::new()),
        }
    }
}

impl fmt::Debug for SignatureCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureCache")
            .field("entries", &self.len())
            .finish()
    }
}

impl SignatureCache {
    /// The cache's name for a signature: hashed once per token and reused
    /// (`seen_id`, then `remember_id`).
    pub(crate) fn entry(key: &VerifyKey, message: &[u8], signature: &[u8]) -> [u8; 32] {
        fingerprint(&[key.alg.name().as_bytes(), &key.fingerprint, message, signature])
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A panic elsewhere while holding the lock leaves a set that is still
        // consistent (inserts are single operations), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of cached signatures.
    pub(crate) fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Forgets every cached signature and key.
    pub(crate) fn clear(&self) {
        let mut inner = self.lock();
        inner.seen.clear();
        inner.order.clear();
        drop(inner);
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// [`verify_key`], remembering keys that passed: decoding and the
    /// strength checks (ROCA, sizes) run once per key, not once per token.
    pub(crate) fn verify_key(
        &self,
        alg: Alg,
        jwk: &Map<String, Value>,
    ) -> std::result::Result<VerifyKey, KeyFault> {
        let mut id = Vec::with_capacity(512);
        let mut part = |p: &[u8]| {
            id.extend_from_slice(&(p.len() as u64).to_le_bytes());
            id.extend_from_slice(p);
        };
        part(alg.name().as_bytes());
        for member in KEY_MEMBERS {
            match jwk.get(member) {
                Some(Value::String(s)) => {
                    part(member.as_bytes());
                    part(s.as_bytes());
                }
                // Anything else is refused by verify_key below, never cached.
                Some(_) => return verify_key(alg, jwk),
                None => {}
            }
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get(&id) {
            return Ok(key.clone());
        }
        drop(keys);
        let key = verify_key(alg, jwk)?;
        keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= KEY_CAPACITY {
            keys.clear();
        }
        keys.insert(id, key.clone());
        Ok(key)
    }

    /// [`verify_signature`], remembering successes.
    pub(crate) fn verify(&self, key: &VerifyKey, message: &[u8], signature: &[u8]) -> Result<bool> {
        if self.seen(key, message, signature) {
            return Ok(true);
        }
        if !verify_signature(key, message, signature)? {
            return Ok(false);
        }
        self.remember(key, message, signature);
        Ok(true)
    }

    /// Whether this signature verified before.
    pub(crate) fn seen(&self, key: &VerifyKey, message: &[u8], signature: &[u8]) -> bool {
        self.seen_id(&Self::entry(key, message, signature))
    }

    /// [`seen`](Self::seen) by the signature's [`entry`](Self::entry).
    pub(crate) fn seen_id(&self, id: &[u8; 32]) -> bool {
        self.lock().seen.contains(id)
    }

    /// Records a signature that verified (here or by the host).
    pub(crate) fn remember(&self, key: &VerifyKey, message: &[u8], signature: &[u8]) {
        self.remember_id(Self::entry(key, message, signature));
    }

    /// [`remember`](Self::remember) by the signature's [`entry`](Self::entry).
    pub(crate) fn remember_id(&self, id: [u8; 32]) {
        let mut inner = self.lock();
        if inner.seen.insert(id) {
            inner.order.push_back(id);
            while inner.order.len() > CACHE_CAPACITY {
                if let Some(old) = inner.order.pop_front() {
                    inner.seen.remove(&old);
                }
            }
        }
    }
}

/// The keys of a JWKS, checked for shape: `{"keys": [objects]}`, no two
/// keys under one `kid` unless their types differ (RFC 7517 §4.5 allows
/// one `kid` for an RSA and an EC key, say), and no mixing of secret (`oct`)
/// and public keys — a set holding both invites algorithm confusion, and
/// Wycheproof expects such sets refused. These are host mistakes, hence
/// `invalid_argument`.
pub(crate) fn jwks_keys(jwks: &Value) -> Result<Vec<&Map<String, Value>>> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or_else(|| {
        let path = if jwks.is_object() { "jwks.keys" } else { "jwks" };
        Error::argument(format!("{path}: a JWKS is an object with a `keys` array"))
    })?;
    let mut out = Vec::with_capacity(keys.len());
    let mut kids: HashSet<(&str, &str, &str)> = HashSet::with_capacity(keys.len());
    let (mut secret, mut public) = (false, false);
    for (i, key) in keys.iter().enumerate() {
        let map = key
            .as_object()
            .ok_or_else(|| Error::argument(format!("jwks.keys[{i}]: a JWKS key is a JSON object")))?;
        for member in ["kid", "kty", "use", "alg"] {
            if map.get(member).is_some_and(|v| !v.is_string()) {
                return Err(Error::argument(format!(
                    "jwks.keys[{i}].{member}: `{member}` of a JWKS key is not a string"
                )));
            }
        }
        if let Some(ops) = map.get("key_ops") {
            if !ops.as_array().is_some_and(|a| a.iter().all(Value::is_string)) {
                return Err(Error::argument(format!(
                    "jwks.keys[{i}].key_ops: `key_ops` of a JWKS key is not an array of strings"
                )));
            }
        }
        let text = |m: &str| map.get(m).and_then(Value::as_str).unwrap_or("");
        if let Some(kid) = map.get("kid").and_then(Value::as_str) {
            if !kids.insert((kid, text("kty"), text("crv"))) {
                return Err(Error::argument(format!(
                    "jwks.keys[{i}].kid: the JWKS names kid `{kid}` twice for keys of one type; a kid may be \
                     shared only by keys of different types (RFC 7517 §4.5)"
                )));
            }
        }
        match map.get("kty").and_then(Value::as_str) {
            Some("oct") => secret = true,
            Some(_) => public = true,
            None => {}
        }
        if secret && public {
            return Err(Error::argument(format!(
                "jwks.keys[{i}].kty: the JWKS mixes secret (`oct`) and public keys"
            )));
        }
        out.push(map);
    }
    Ok(out)
}

/// Whether a key may verify signatures at all: `use` absent or `sig`,
/// `key_ops` absent or holding `verify` (RFC 7517 §4.2–4.3).
pub(crate) fn for_signatures(jwk: &Map<String, Value>) -> bool {
    let use_ok = match jwk.get("use") {
        None => true,
        Some(u) => u == "sig",
    };
    let ops_ok = match jwk.get("key_ops").and_then(Value::as_array) {
        None => true,
        Some(ops) => ops.iter().any(|o| o == "verify"),
    };
    use_ok && ops_ok
}

/// Whether `alg` can use `jwk` by its type and curve (the key material is
/// checked later, by [`verify_key`]).
fn fits(alg: Alg, jwk: &Map<String, Value>) -> bool {
    let text = |m: &str| jwk.get(m).and_then(Value::as_str);
    let kind_ok = match alg.kind() {
        KeyKind::Oct => text("kty") == Some("oct"),
        KeyKind::Rsa => text("kty") == Some("RSA"),
        KeyKind::Ec(c) => text("kty") == Some("EC") && text("crv") == Some(c),
        KeyKind::Okp(c) => text("kty") == Some("OKP") && text("crv") == Some(c),
    };
    kind_ok && text("alg").is_none_or(|a| a == alg.name())
}

/// Picks the key a token names: by `kid` (among several keys under that
/// `kid`, the one whose type and curve fit `alg`), or, without one, the only
/// usable key of the set (`unknown_key` otherwise). Two keys that both fit
/// are `invalid_argument`; a named key that does not fit is returned anyway
/// so that [`verify_key`] reports why (`unsupported_alg`).
pub(crate) fn select_key<'a>(
    keys: &[&'a Map<String, Value>],
    kid: Option<&str>,
    alg: Alg,
) -> Result<&'a Map<String, Value>> {
    match kid {
        Some(kid) => {
            let named: Vec<&'a Map<String, Value>> = keys
                .iter()
                .copied()
                .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                .collect();
            if named.is_empty() {
                return Err(Error::token(
                    "unknown_key",
                    format!("no key with kid `{kid}` in the JWKS"),
                ));
            }
            let usable: Vec<_> = named.iter().copied().filter(|k| for_signatures(k)).collect();
            let Some(first_usable) = usable.first().copied() else {
                return Err(Error::token(
                    "unknown_key",
                    format!("key `{kid}` is not for verifying signatures (`use`/`key_ops`)"),
                ));
            };
            let fitting: Vec<_> = usable.iter().copied().filter(|k| fits(alg, k)).collect();
            match fitting.as_slice() {
                [one] => Ok(one),
                [] => Ok(first_usable),
                _ => Err(Error::argument(format!(
                    "jwks.keys: the JWKS holds several keys under kid `{kid}` that fit {}",
                    alg.name()
                ))),
            }
        }
        None => {
            let usable: Vec<_> = keys.iter().filter(|k| for_signatures(k)).collect();
            match usable.as_slice() {
                [only] => Ok(only),
                [] => Err(Error::token("unknown_key", "the JWKS has no key for signatures")),
                _ => Err(Error::token(
                    "unknown_key",
                    "the token has no `kid` and the JWKS has several usable keys",
                )),
            }
        }
    }
}

/// A header member that must be a string when present (`malformed` if not).
pub(crate) fn header_str<'a>(header: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::token(
            "malformed",
            format!("header `{name}` is not a string"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_json_refuses_duplicates_at_any_depth() {
        assert!(strict_object(br#"{"a":1,"b":{"c":1}}"#, "x").is_ok());
        assert_eq!(
            strict_object(br#"{"a":1,"a":2}"#, "x").unwrap_err().code,
            "malformed"
        );
        assert_eq!(
            strict_object(br#"{"a":{"c":1,"c":1}}"#, "x").unwrap_err().code,
            "malformed"
        );
        assert_eq!(strict_object(b"[1]", "x").unwrap_err().code, "malformed");
        assert_eq!(strict_object(b"\xff", "x").unwrap_err().code, "malformed");
    }

    #[test]
    fn base64url_must_be_canonical() {
        assert_eq!(b64url("VGVzdA"), Some(b"Test".to_vec()));
        assert_eq!(b64url("VGVzdA=="), None);
        assert_eq!(b64url("VGVzdB"), None); // non-zero trailing bits
        assert_eq!(b64url("VGV+dA"), None);
        assert_eq!(b64url("V"), None);
    }

    #[test]
    fn roca_detects_only_fingerprinted_moduli() {
        // 2^2047 + 1 is not ROCA-shaped; a product of primes near 65537^k is
        // not needed: the all-primes condition fails quickly for ordinary n.
        let mut n = vec![0u8; 256];
        n[0] = 0x80;
        n[255] = 1;
        assert!(!roca_fingerprint(&n));
    }

    #[test]
    fn compact_rejects_bad_shapes() {
        assert_eq!(parse_compact("a.b").unwrap_err().code, "malformed");
        assert_eq!(parse_compact("a.b.c.d").unwrap_err().code, "malformed");
        assert_eq!(
            parse_compact(&"a".repeat(MAX_TOKEN_BYTES + 1)).unwrap_err().code,
            "too_large"
        );
        let ok = format!(
            "{}.{}.{}",
            b64url_encode(b"{}"),
            b64url_encode(b"{}"),
            b64url_encode(b"s")
        );
        let c = parse_compact(&ok).unwrap();
        assert_eq!(c.signing_input, &ok[..ok.rfind('.').unwrap()]);
    }
}
