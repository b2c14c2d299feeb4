// Base64 to bytes for the inlined .wasm: `Uint8Array.fromBase64` where the
// runtime has it, else `atob` (browsers, Node >= 16, workers).
export function decodeBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
