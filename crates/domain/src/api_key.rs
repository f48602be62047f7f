//! API keys: `th_` followed by 32 random bytes in base64url, stored only as a SHA-256 hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Role, Timestamp, secret::Secret};

/// What every key Toolhub issues starts with.
pub const KEY_PREFIX: &str = "th_";

/// Limits of API keys.
pub mod limits {
    /// Characters of the principal id a key authenticates as.
    pub const PRINCIPAL_MAX: usize = 200;
    /// Characters of a key's label.
    pub const NAME_MAX: usize = 200;
}

/// A stored key: everything but the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id (a ULID).
    pub id: String,
    /// The tenant of its principal.
    pub tenant: String,
    /// The principal (user id) the key authenticates as.
    pub principal_id: String,
    /// Its role.
    pub role: Role,
    /// A label to recognise it by.
    pub name: String,
    /// Hex SHA-256 of the full key.
    pub key_hash: String,
    /// The first characters of the key, so an operator can tell keys apart.
    pub key_prefix: String,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it last authenticated a request.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether it may authenticate at `now`: not revoked, not expired.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A freshly generated key, returned to its creator once.
pub fn generate_key() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The SHA-256 of a key, hex: what is stored and looked up.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a bearer token has the shape of one of our keys (otherwise it may be a JWT).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX) && token.len() == KEY_PREFIX.len() + 43
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape_and_differ() {
        let a = generate_key();
        let b = generate_key();
        assert!(looks_like_key(a.expose()), "{}", a.expose().len());
        assert_ne!(a.expose(), b.expose());
        assert_eq!(hash_key(a.expose()).len(), 64);
        assert_ne!(hash_key(a.expose()), hash_key(b.expose()));
    }
}
