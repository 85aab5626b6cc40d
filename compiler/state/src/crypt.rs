//! Client-side encryption of state and saved plan files: AES-256-GCM under a data key, in a small
//! JSON envelope that says how to get the key back.
//!
//! - `aws_kms`: the data key comes from KMS `GenerateDataKey` (once per process); the envelope
//!   holds it encrypted (`CiphertextBlob`) and the key's id, and KMS `Decrypt` gives it back. The KMS calls belong to
//!   the AWS provider crate, which implements [`DataKeys`]; this crate has no SDK.
//! - `pbkdf2`: the data key is derived from a passphrase with PBKDF2-HMAC-SHA256 (600,000
//!   iterations, a random 16-byte salt per process), for state kept on a laptop.
//!
//! The envelope's header (method, key id or KDF parameters) is the AES-GCM associated data, so
//! changing any of it makes decryption fail instead of decrypting with the wrong parameters. A file
//! that is not an envelope is plain state and is read as it is: unencrypted state stays readable,
//! which is how a state is migrated to encryption (the next write encrypts it).

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// The envelope's format version.
const ENVELOPE_VERSION: u64 = 1;
/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// A source of data keys: AWS KMS in practice (`carbonc-aws`).
pub trait DataKeys: Send + Sync {
    /// The key id data keys are made under (an ARN or alias), for messages.
    fn key_id(&self) -> String;
    /// A new 32-byte data key: (plain key, the key encrypted under the master key, the master key's
    /// ARN as KMS reports it).
    fn generate(&self) -> Result<(Vec<u8>, Vec<u8>, String), String>;
    /// The plain data key of an encrypted one.
    fn decrypt(&self, wrapped: &[u8], key_id: &str) -> Result<Vec<u8>, String>;
}

/// How state and plan files are encrypted.
#[derive(Clone, Default)]
pub enum Codec {
    /// Written as plain JSON (secret values are still only keyed hashes).
    #[default]
    Plain,
    Passphrase(Arc<PassphraseKeys>),
    Kms(Arc<KmsKeys>),
}

/// A derived key: (salt, iterations, key).
type Derived = (Vec<u8>, u32, [u8; 32]);
/// A data key: (plain, wrapped by KMS, the KMS key's ARN).
type DataKey = (Vec<u8>, Vec<u8>, String);

/// Keys derived from a passphrase. Deriving one takes 600,000 PBKDF2 rounds, and `apply` writes the
/// state after every action, so a process derives one key (one salt) for all its writes, each with
/// its own nonce, and remembers the keys it derived to read.
pub struct PassphraseKeys {
    passphrase: String,
    writing: std::sync::OnceLock<([u8; 16], [u8; 32])>,
    read: std::sync::Mutex<Vec<Derived>>,
}

impl PassphraseKeys {
    fn for_writing(&self) -> ([u8; 16], [u8; 32]) {
        *self.writing.get_or_init(|| {
            let salt = random::<16>();
            (salt, derive(&self.passphrase, &salt, PBKDF2_ITERATIONS))
        })
    }

    fn for_reading(&self, salt: &[u8], iterations: u32) -> [u8; 32] {
        if let Some((s, i, k)) = self
            .writing
            .get()
            .map(|(s, k)| (s.to_vec(), PBKDF2_ITERATIONS, *k))
            && s == salt
            && i == iterations
        {
            return k;
        }
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, k)) = read.iter().find(|(s, i, _)| s == salt && *i == iterations) {
            return *k;
        }
        let k = derive(&self.passphrase, salt, iterations);
        read.push((salt.to_vec(), iterations, k));
        k
    }
}

/// Data keys from a [`DataKeys`] source. One data key per process encrypts all its writes (each
/// with its own nonce: AES-GCM with random 96-bit nonces is safe far beyond any state's number of
/// writes), so `apply` calls KMS once, not after every action; keys opened to read are remembered.
pub struct KmsKeys {
    source: Arc<dyn DataKeys>,
    writing: std::sync::Mutex<Option<DataKey>>,
    read: std::sync::Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl KmsKeys {
    fn for_writing(&self) -> Result<DataKey, CryptError> {
        let mut w = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = &*w {
            return Ok(k.clone());
        }
        let k = self.source.generate().map_err(CryptError::KeySource)?;
        *w = Some(k.clone());
        Ok(k)
    }

    fn for_reading(&self, wrapped: &[u8], key_id: &str) -> Result<Vec<u8>, String> {
        if let Some((plain, w, _)) = &*self.writing.lock().unwrap_or_else(|e| e.into_inner())
            && w == wrapped
        {
            return Ok(plain.clone());
        }
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, plain)) = read.iter().find(|(w, _)| w == wrapped) {
            return Ok(plain.clone());
        }
        let plain = self.source.decrypt(wrapped, key_id)?;
        read.push((wrapped.to_vec(), plain.clone()));
        Ok(plain)
    }
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::Plain => f.write_str("Plain"),
            Codec::Passphrase(_) => f.write_str("Passphrase(..)"),
            Codec::Kms(k) => write!(f, "Kms({})", k.source.key_id()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptError {
    /// The file is encrypted and no key was configured to read it.
    NoKey { method: String },
    /// Authentication failed: the wrong passphrase or key, or a damaged file.
    WrongKey { method: String, detail: String },
    /// The envelope is not well formed.
    Malformed(String),
    /// The key source failed (KMS unreachable, access denied).
    KeySource(String),
}

impl fmt::Display for CryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptError::NoKey { method } => write!(
                f,
                "it is encrypted ({method}) and no key is configured: set `encryption` in carbon.toml's \
                 [backend] (and CARBONC_STATE_PASSPHRASE for a passphrase)"
            ),
            CryptError::WrongKey { method, detail } => write!(
                f,
                "cannot decrypt it ({method}): {detail}; nothing was changed"
            ),
            CryptError::Malformed(m) => write!(f, "its encryption envelope is damaged: {m}"),
            CryptError::KeySource(m) => write!(f, "cannot get the data key: {m}"),
        }
    }
}

impl std::error::Error for CryptError {}

/// Whether `bytes` is an encryption envelope (as opposed to plain JSON state or plan).
pub fn is_encrypted(bytes: &[u8]) -> bool {
    envelope(bytes).is_some()
}

/// A clear-text label of an envelope (see [`Codec::encode_labelled`]). Unauthenticated until the
/// envelope is decrypted.
pub fn label(bytes: &[u8], name: &str) -> Option<String> {
    envelope(bytes)?
        .get(&format!("label_{name}"))?
        .as_str()
        .map(str::to_string)
}

fn envelope(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    // Cheap test first: state and plans are large, envelopes start with their marker.
    let head = std::str::from_utf8(&bytes[..bytes.len().min(64)]).ok()?;
    if !head.trim_start().starts_with("{\"carbonc_encryption\"") {
        return None;
    }
    match serde_json::from_slice(bytes).ok()? {
        Value::Object(m) if m.contains_key("carbonc_encryption") => Some(m),
        _ => None,
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    b
}

fn derive(passphrase: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase.as_bytes(), salt, iterations, &mut key);
    key
}

/// The associated data: the header fields, in a fixed order.
fn aad(header: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut keys: Vec<&String> = header.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for k in keys {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(header[k].to_string().as_bytes());
        out.push(0);
    }
    out
}

impl Codec {
    /// Encryption with keys derived from `passphrase`.
    pub fn passphrase(passphrase: impl Into<String>) -> Codec {
        Codec::Passphrase(Arc::new(PassphraseKeys {
            passphrase: passphrase.into(),
            writing: std::sync::OnceLock::new(),
            read: std::sync::Mutex::new(Vec::new()),
        }))
    }

    /// Encryption under data keys from `source` (AWS KMS).
    pub fn kms(source: Arc<dyn DataKeys>) -> Codec {
        Codec::Kms(Arc::new(KmsKeys {
            source,
            writing: std::sync::Mutex::new(None),
            read: std::sync::Mutex::new(Vec::new()),
        }))
    }

    pub fn is_plain(&self) -> bool {
        matches!(self, Codec::Plain)
    }

    /// What `describe` shows: `none`, `passphrase (pbkdf2)`, `aws_kms (KEY)`.
    pub fn describe(&self) -> String {
        match self {
            Codec::Plain => "none".into(),
            Codec::Passphrase(_) => "passphrase (PBKDF2-HMAC-SHA256, AES-256-GCM)".into(),
            Codec::Kms(k) => format!("AWS KMS data key under {} (AES-256-GCM)", k.source.key_id()),
        }
    }

    /// `plain` as written to disk or S3: unchanged for `Plain`, an envelope otherwise.
    pub fn encode(&self, plain: &[u8]) -> Result<Vec<u8>, CryptError> {
        self.encode_labelled(plain, &[])
    }

    /// Like [`Codec::encode`], with clear-text `labels` in the envelope's header (authenticated
    /// with it): a saved plan names its root file, whose configuration says how to decrypt it.
    pub fn encode_labelled(
        &self,
        plain: &[u8],
        labels: &[(&str, &str)],
    ) -> Result<Vec<u8>, CryptError> {
        let (mut header, key) = match self {
            Codec::Plain => return Ok(plain.to_vec()),
            Codec::Passphrase(p) => {
                let (salt, key) = p.for_writing();
                let header = json!({
                    "carbonc_encryption": ENVELOPE_VERSION,
                    "method": "pbkdf2",
                    "iterations": PBKDF2_ITERATIONS,
                    "salt": B64.encode(salt),
                });
                (header, key.to_vec())
            }
            Codec::Kms(k) => {
                let (key, wrapped, key_id) = k.for_writing()?;
                let header = json!({
                    "carbonc_encryption": ENVELOPE_VERSION,
                    "method": "aws_kms",
                    "kms_key_id": key_id,
                    "wrapped_key": B64.encode(wrapped),
                });
                (header, key)
            }
        };
        let Value::Object(h) = &mut header else {
            unreachable!("a JSON object literal")
        };
        for (k, v) in labels {
            h.insert(format!("label_{k}"), Value::String(v.to_string()));
        }
        let cipher = Aes256Gcm::new_from_slice(&key)
            .map_err(|_| CryptError::KeySource("the data key is not 32 bytes".into()))?;
        let nonce = random::<12>();
        let aad = aad(h);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptError::KeySource("AES-GCM refused to encrypt".into()))?;
        h.insert("nonce".into(), Value::String(B64.encode(nonce)));
        h.insert("ciphertext".into(), Value::String(B64.encode(ciphertext)));
        Ok(serde_json::to_vec(&header).expect("JSON serialises"))
    }

    /// The plain bytes of what `encode` wrote. Plain input passes through whatever the codec, so
    /// unencrypted state stays readable.
    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>, CryptError> {
        let Some(mut env) = envelope(bytes) else {
            return Ok(bytes.to_vec());
        };
        let text = |env: &serde_json::Map<String, Value>, k: &str| {
            env.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| CryptError::Malformed(format!("no `{k}`")))
        };
        let bin = |env: &serde_json::Map<String, Value>, k: &str| {
            B64.decode(text(env, k)?)
                .map_err(|e| CryptError::Malformed(format!("`{k}` is not base64: {e}")))
        };
        let nonce = bin(&env, "nonce")?;
        let ciphertext = bin(&env, "ciphertext")?;
        env.remove("nonce");
        env.remove("ciphertext");
        let method = text(&env, "method")?;
        let key = match (method.as_str(), self) {
            (_, Codec::Plain) => return Err(CryptError::NoKey { method }),
            ("pbkdf2", Codec::Passphrase(p)) => {
                let iterations = env
                    .get("iterations")
                    .and_then(Value::as_u64)
                    .filter(|n| (1..=10_000_000).contains(n))
                    .ok_or_else(|| CryptError::Malformed("bad `iterations`".into()))?;
                p.for_reading(&bin(&env, "salt")?, iterations as u32)
                    .to_vec()
            }
            ("aws_kms", Codec::Kms(k)) => k
                .for_reading(&bin(&env, "wrapped_key")?, &text(&env, "kms_key_id")?)
                .map_err(|e| CryptError::WrongKey {
                    method: "aws_kms".into(),
                    detail: format!("KMS cannot decrypt its data key: {e}"),
                })?,
            (m, _) => {
                return Err(CryptError::WrongKey {
                    method: m.to_string(),
                    detail: format!(
                        "it was encrypted with `{m}` but the configuration says {}",
                        self.describe()
                    ),
                });
            }
        };
        if nonce.len() != 12 {
            return Err(CryptError::Malformed("the nonce is not 12 bytes".into()));
        }
        let cipher = Aes256Gcm::new_from_slice(&key)
            .map_err(|_| CryptError::Malformed("the data key is not 32 bytes".into()))?;
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(&env),
                },
            )
            .map_err(|_| CryptError::WrongKey {
                method,
                detail: "authentication failed (a wrong passphrase or key, or a damaged file)"
                    .into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(p: &str) -> Codec {
        Codec::passphrase(p)
    }

    /// A stand-in key source: wraps data keys by XOR with a master key (the real one is KMS).
    struct Xor(u8);
    impl DataKeys for Xor {
        fn key_id(&self) -> String {
            format!("xor-{}", self.0)
        }
        fn generate(&self) -> Result<(Vec<u8>, Vec<u8>, String), String> {
            let key = random::<32>().to_vec();
            let wrapped = key.iter().map(|b| b ^ self.0).collect();
            Ok((key, wrapped, self.key_id()))
        }
        fn decrypt(&self, wrapped: &[u8], key_id: &str) -> Result<Vec<u8>, String> {
            if key_id != self.key_id() {
                return Err(format!(
                    "AccessDeniedException: not allowed to use {key_id}"
                ));
            }
            Ok(wrapped.iter().map(|b| b ^ self.0).collect())
        }
    }

    const STATE: &[u8] = br#"{"format_version":1,"lineage":"l","serial":3,"resources":[{"attributes":{"cidr_block":"10.0.0.0/16"}}]}"#;

    #[test]
    fn a_passphrase_round_trips_and_hides_the_text() {
        let c = pass("correct horse");
        let sealed = c.encode(STATE).unwrap();
        assert!(is_encrypted(&sealed));
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("10.0.0.0/16") && !text.contains("lineage"));
        assert_eq!(c.decode(&sealed).unwrap(), STATE);
        // Each write has its own nonce (one key per process); another process, another salt.
        assert_ne!(c.encode(STATE).unwrap(), sealed);
        let other = pass("correct horse").encode(STATE).unwrap();
        let salt = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap()["salt"].clone();
        assert_eq!(salt(&c.encode(STATE).unwrap()), salt(&sealed));
        assert_ne!(salt(&other), salt(&sealed));
        assert_eq!(c.decode(&other).unwrap(), STATE);
    }

    #[test]
    fn the_wrong_passphrase_or_no_key_is_a_clear_error() {
        let sealed = pass("correct horse").encode(STATE).unwrap();
        let e = pass("battery staple").decode(&sealed).unwrap_err();
        assert!(matches!(e, CryptError::WrongKey { .. }), "{e}");
        assert!(e.to_string().contains("nothing was changed"));
        let e = Codec::Plain.decode(&sealed).unwrap_err();
        assert!(matches!(e, CryptError::NoKey { .. }), "{e}");
    }

    #[test]
    fn a_changed_header_fails_authentication() {
        let sealed = pass("p").encode(STATE).unwrap();
        let mut env: Value = serde_json::from_slice(&sealed).unwrap();
        env["iterations"] = json!(PBKDF2_ITERATIONS - 1);
        let tampered = serde_json::to_vec(&env).unwrap();
        assert!(matches!(
            pass("p").decode(&tampered),
            Err(CryptError::WrongKey { .. })
        ));
    }

    #[test]
    fn kms_data_keys_round_trip_and_another_key_cannot_read() {
        let c = Codec::kms(Arc::new(Xor(7)));
        let sealed = c.encode(STATE).unwrap();
        assert_eq!(c.decode(&sealed).unwrap(), STATE);
        let e = Codec::kms(Arc::new(Xor(9))).decode(&sealed).unwrap_err();
        assert!(e.to_string().contains("not allowed"), "{e}");
        let e = pass("p").decode(&sealed).unwrap_err();
        assert!(e.to_string().contains("aws_kms"), "{e}");
    }

    #[test]
    fn labels_are_readable_and_authenticated() {
        let c = pass("p");
        let sealed = c
            .encode_labelled(STATE, &[("root", "global.carbon")])
            .unwrap();
        assert_eq!(label(&sealed, "root").as_deref(), Some("global.carbon"));
        assert_eq!(c.decode(&sealed).unwrap(), STATE);
        let mut env: Value = serde_json::from_slice(&sealed).unwrap();
        env["label_root"] = json!("other.carbon");
        let tampered = serde_json::to_vec(&env).unwrap();
        assert!(c.decode(&tampered).is_err());
    }

    #[test]
    fn plain_state_passes_through_every_codec() {
        for c in [Codec::Plain, pass("p"), Codec::kms(Arc::new(Xor(1)))] {
            assert_eq!(c.decode(STATE).unwrap(), STATE);
        }
        assert!(!is_encrypted(STATE));
    }
}
