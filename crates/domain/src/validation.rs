//! Field-level validation shared by every entity: the limits live here, once.

use serde::Serialize;

/// One invalid field, as reported in a 422 problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, as the client named it (`oauth_config.token_url`, `args[2]`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Collects field errors, so one response lists every problem of a request.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// A validator with no errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error of `field`.
    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records an error of `field` unless `ok` (the message is made only then).
    pub fn check(&mut self, ok: bool, field: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.error(field, message());
        }
    }

    /// Length counted in characters, as clients count it; also refuses control characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min || len > max {
            self.error(field, format!("length must be between {min} and {max} characters"));
        } else if min > 0 && value.trim().is_empty() {
            self.error(field, "must not be blank");
        } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.error(field, "must not contain control characters");
        }
    }

    /// An integer from `min` to `max`.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.error(field, format!("must be between {min} and {max}"));
        }
    }

    /// An absolute http(s) URL of at most `MAX_URL_LEN` characters, in the plain form the
    /// OpenAPI document's pattern states (see [`is_plain_http_url`]).
    pub fn http_url(&mut self, field: &str, value: &str) {
        if value.len() > MAX_URL_LEN {
            self.error(field, format!("must be at most {MAX_URL_LEN} characters"));
        } else if !is_plain_http_url(value) || url::Url::parse(value).is_err() {
            self.error(
                field,
                "must be an http(s) URL with a host name or IP address, an optional port, and printable ASCII after it",
            );
        }
    }

    /// `Ok` when no error was recorded, else a validation error listing them all.
    pub fn finish(self) -> Result<(), crate::DomainError> {
        if self.errors.is_empty() { Ok(()) } else { Err(crate::DomainError::Validation(self.errors)) }
    }
}

/// The longest URL accepted, in bytes (what browsers accept).
pub const MAX_URL_LEN: usize = 2083;

/// What the OpenAPI document's URL pattern says, checked by hand: `http://` or `https://` (any
/// case), optional user information, then a dotted IPv4 address, a bracketed IPv6 address or a
/// DNS name whose last label starts with a letter, an optional port up to 65535, and printable
/// ASCII only after the host.
pub fn is_plain_http_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &text[8..]
    } else if lower.starts_with("http://") {
        &text[7..]
    } else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if !tail.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        return false;
    }
    let host_port = match authority.rsplit_once('@') {
        Some((user, host_port)) => {
            let user_char = |b: u8| b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=:-".contains(&b);
            if user.is_empty() || !user.bytes().all(user_char) {
                return false;
            }
            host_port
        }
        None => authority,
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((inside, after)) => {
                let ipv6_char = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
                if inside.is_empty() || !inside.bytes().all(ipv6_char) {
                    return false;
                }
                ("[]", after.strip_prefix(':').map(Some).unwrap_or(if after.is_empty() { None } else { Some("") }))
            }
            None => return false,
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && (1..=4).contains(&p.len())
            || (p.len() == 5
                && !p.starts_with('0')
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65_535))
    });
    port_ok && (host == "[]" || is_ipv4(host) || is_dns_name(host))
}

fn is_ipv4(host: &str) -> bool {
    let octet = |part: &str| {
        !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
            && part.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| octet(p))
}

fn is_dns_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && l.as_bytes()[0].is_ascii_alphanumeric()
    };
    labels.iter().all(|l| label(l)) && labels.last().is_some_and(|l| l.as_bytes()[0].is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::is_plain_http_url;

    #[test]
    fn plain_http_urls_are_what_the_document_pattern_says() {
        for good in [
            "https://weather.example/mcp",
            "HTTP://127.0.0.1:8080/mcp?x=1#y",
            "https://user:pw@host.example",
            "http://[::1]:3000/mcp",
            "http://a-b.c-d.example:65535",
            "https://0.0.0.0",
        ] {
            assert!(is_plain_http_url(good), "{good}");
        }
        for bad in [
            "ftp://host.example",
            "https://host.example*",
            "https://1.2.3.999",
            "https://01.2.3.4",
            "https://host.example:65536",
            "https://host.example:01234",
            "https://host.example/ü",
            "https://host.example/a b",
            "https://-host.example",
            "https://host..example",
            "https://",
            "https://@host.example",
            "https://[]/",
            "wss://host.example",
        ] {
            assert!(!is_plain_http_url(bad), "{bad}");
        }
    }
}
