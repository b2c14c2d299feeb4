//! Request paths as web frameworks read them (docs/decisions.md, Paths): one
//! trailing slash set aside, each segment percent-decoded, and paths that would
//! let the engine and the handler see different routes refused.

use crate::error::{Error, ErrorKind, Result};
use std::borrow::Cow;

/// One trailing slash is not significant (`/devices/` is `/devices`), as in
/// Express and Flask's redirects; the root `/` stays itself.
pub(crate) fn trim_trailing_slash(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one path segment, as the frameworks hand it to a handler.
/// Refuses what would make the engine and the handler see different paths: a
/// broken escape, bytes that are not UTF-8, an encoded `/` (`%2F`) and the dot
/// segments `.` and `..` (encoded or not).
pub(crate) fn decode_segment(seg: &str) -> std::result::Result<Cow<'_, str>, String> {
    let decoded = if seg.contains('%') {
        let bytes = seg.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(format!("`{seg}` has a broken percent-escape"));
                };
                out.push(hi << 4 | lo);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        let text = String::from_utf8(out).map_err(|_| format!("`{seg}` does not decode to UTF-8"))?;
        if text.contains('/') {
            return Err(format!("`{seg}` holds an encoded `/` inside a segment"));
        }
        Cow::Owned(text)
    } else {
        Cow::Borrowed(seg)
    };
    if decoded == "." || decoded == ".." {
        return Err(format!("`{seg}` is a dot segment"));
    }
    Ok(decoded)
}

/// The request path's segments, decoded (docs/decisions.md, "Paths"); `None`
/// when it is not a path at all (no leading `/`: an unknown operation).
pub(crate) fn request_segments(path: &str) -> Result<Option<Vec<Cow<'_, str>>>> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let Some(rest) = trim_trailing_slash(path).strip_prefix('/') else {
        return Ok(None);
    };
    rest.split('/')
        .map(|seg| {
            decode_segment(seg).map_err(|why| {
                Error::new(
                    ErrorKind::Argument,
                    "invalid_path",
                    format!("{why}; the request is refused"),
                )
                .with_path("operation")
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}
