//! `Authorization` headers (SPEC §6.4).

use crate::error::{Error, Result};

/// The token in an `Authorization` header value: `Bearer <token>` (scheme
/// case-insensitive, one or more spaces) or a bare token, as Ioto's CloudAPI
/// sends it.
///
/// Leading and trailing spaces and tabs around the whole value are dropped
/// first (HTTP's optional white space is not part of a field value). The
/// token itself must be visible ASCII with no white space. A lone `Bearer`,
/// another scheme (`Basic xyz`), or anything with inner white space is
/// `malformed`.
///
/// ```
/// use tessera::token::parse_authorization;
/// assert_eq!(parse_authorization("Bearer abc.def.ghi").unwrap(), "abc.def.ghi");
/// assert_eq!(parse_authorization("bearer   tok").unwrap(), "tok");
/// assert_eq!(parse_authorization("tsr_abc_def").unwrap(), "tsr_abc_def");
/// assert_eq!(parse_authorization("Basic dXNlcjpwYXNz").unwrap_err().code, "malformed");
/// ```
pub fn parse_authorization(header: &str) -> Result<String> {
    let value = header.trim_matches(|c| c == ' ' || c == '\t');
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim_start_matches(' '),
        Some(_) => return Err(malformed("only the Bearer scheme or a bare token is accepted")),
        None if value.eq_ignore_ascii_case("bearer") => return Err(malformed("`Bearer` without a token")),
        None => value,
    };
    if token.is_empty() {
        return Err(malformed("no token"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed("a token is visible ASCII without white space"));
    }
    Ok(token.to_string())
}

fn malformed(why: &str) -> Error {
    Error::token("malformed", format!("Authorization header: {why}"))
}
