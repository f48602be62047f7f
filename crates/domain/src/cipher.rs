//! Sealed secrets: ChaCha20-Poly1305 with a random nonce per value. At rest the key comes
//! from configuration; in an export, from a passphrase (PBKDF2-HMAC-SHA256 over a random salt).

use crate::{DomainError, ports::SecretCipher, secret::Secret};
use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};

/// Sealed values read `v1:<base64(nonce || ciphertext)>`; the prefix leaves room for rotation.
const VERSION: &str = "v1:";

/// PBKDF2 rounds for a passphrase's key (OWASP's figure for PBKDF2-HMAC-SHA256).
pub const PASSPHRASE_ROUNDS: u32 = 600_000;

/// Seals and opens secrets (see [`SecretCipher`]).
pub struct AeadCipher {
    cipher: ChaCha20Poly1305,
}

impl AeadCipher {
    /// Bytes of a key.
    pub const KEY_LEN: usize = 32;

    /// A cipher with this key.
    pub fn new(key: &[u8; Self::KEY_LEN]) -> Self {
        Self { cipher: ChaCha20Poly1305::new(key.into()) }
    }

    /// A new random key, base64-encoded as the configuration expects it.
    pub fn generate_key() -> String {
        STANDARD.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// A cipher whose key is derived from a passphrase and a salt (for exports: whoever knows
    /// the passphrase opens them anywhere).
    pub fn from_passphrase(passphrase: &str, salt: &[u8]) -> Self {
        let mut key = [0u8; Self::KEY_LEN];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase.as_bytes(), salt, PASSPHRASE_ROUNDS, &mut key);
        Self::new(&key)
    }

    /// Reads a base64 key from configuration.
    pub fn from_base64(encoded: &str) -> Result<Self, String> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|e| format!("secret key is not base64: {e}"))?;
        let key: [u8; Self::KEY_LEN] =
            bytes.try_into().map_err(|_| format!("secret key must be {} bytes", Self::KEY_LEN))?;
        Ok(Self::new(&key))
    }
}

impl SecretCipher for AeadCipher {
    fn seal(&self, secret: &Secret) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        out.extend(self.cipher.encrypt(&nonce, secret.expose().as_bytes()).unwrap_or_default());
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    fn open(&self, sealed: &str) -> Result<Secret, DomainError> {
        let fail = || DomainError::Storage("a stored secret cannot be decrypted with the configured key".into());
        let bytes = sealed.strip_prefix(VERSION).and_then(|b| STANDARD.decode(b).ok()).ok_or_else(fail)?;
        if bytes.len() < 12 {
            return Err(fail());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| fail())?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_detects_tampering() {
        let cipher = AeadCipher::from_base64(&AeadCipher::generate_key()).unwrap();
        let sealed = cipher.seal(&Secret::new("hunter2"));
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, cipher.seal(&Secret::new("hunter2")), "fresh nonce each time");
        assert_eq!(cipher.open(&sealed).unwrap().expose(), "hunter2");

        let other = AeadCipher::from_base64(&AeadCipher::generate_key()).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(cipher.open(&tampered).is_err());
        assert!(cipher.open("plain").is_err());
        assert!(AeadCipher::from_base64("c2hvcnQ=").is_err());
    }
}
