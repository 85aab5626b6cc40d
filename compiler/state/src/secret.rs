//! Keyed hashes for secret values. State and plan files keep `hmac-sha256:<hex>` of a secret, never
//! the secret: the planner still sees a changed secret (a different hash), and a reader of the file
//! learns nothing without the key. The key lives in its own file beside the state (mode 0600).

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn generate() -> SecretKey {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system provides randomness");
        SecretKey(k)
    }

    pub fn from_hex(s: &str) -> Option<SecretKey> {
        let s = s.trim();
        if s.len() != 64 {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(SecretKey(k))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `hmac-sha256:<hex>` of the canonical JSON of a value.
    pub fn hash(&self, canonical: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(canonical.as_bytes());
        let out = mac.finalize().into_bytes();
        format!(
            "hmac-sha256:{}",
            out.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::SecretKey;

    #[test]
    fn keyed_hashes() {
        let k = SecretKey::from_hex(&"ab".repeat(32)).unwrap();
        let h = k.hash("\"hunter2\"");
        assert!(h.starts_with("hmac-sha256:") && h.len() == 12 + 64);
        assert!(!h.contains("hunter2"));
        assert_eq!(h, k.hash("\"hunter2\""));
        assert_ne!(h, k.hash("\"hunter3\""));
        assert_ne!(h, SecretKey::generate().hash("\"hunter2\""));
        assert_eq!(
            SecretKey::from_hex(&k.to_hex()).unwrap().to_hex(),
            k.to_hex()
        );
        assert!(SecretKey::from_hex("zz").is_none());
        assert_eq!(format!("{k:?}"), "SecretKey(..)");
    }
}
