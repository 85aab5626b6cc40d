//! Which state backend a root file uses: `[backend]` in the `carbon.toml` beside it.
//!
//! ```toml
//! [backend]
//! type = "s3"                      # "local" (default): .carbon/<name>.state.json beside the file
//! bucket = "acme-carbon-state"
//! key = "global/global.state.json"
//! region = "us-east-1"
//! encryption = "aws_kms"           # "none" (default), "aws_kms" or "passphrase"
//! kms_key_id = "alias/carbon-state"
//! lock = "s3"                      # "s3" (default: the object KEY.lock) or "dynamodb"
//! dynamodb_table = "carbon-locks"  # for lock = "dynamodb": a table keyed by `LockID` (a string)
//! ```
//!
//! `encryption = "passphrase"` takes the passphrase from `CARBONC_STATE_PASSPHRASE`. `--state PATH`
//! always means a local file at PATH (encrypted as configured).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use carbonc_aws::{KmsDataKeys, S3Backend};
use carbonc_state::{Codec, LocalBackend, StateBackend};

/// Where the state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Local(PathBuf),
    S3 {
        bucket: String,
        key: String,
        region: String,
        /// Lock in this DynamoDB table instead of an S3 object.
        lock_table: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    None,
    Passphrase,
    Kms { key_id: String, region: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub place: Place,
    /// The S3 settings, also when `type = "local"` (for `state migrate`).
    pub s3: Option<Place>,
    pub encryption: Encryption,
}

/// The environment variable that holds the state passphrase.
pub const PASSPHRASE_VAR: &str = "CARBONC_STATE_PASSPHRASE";

fn carbon_toml(root: &str) -> PathBuf {
    Path::new(root)
        .parent()
        .unwrap_or(Path::new(""))
        .join("carbon.toml")
}

/// Reads `[backend]` of the `carbon.toml` beside `root`.
pub fn config(root: &str, state: Option<&Path>) -> Result<Config, String> {
    let path = carbon_toml(root);
    let shown = path.display().to_string();
    let local = || Place::Local(default_state_path(root));
    let table = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .parse::<toml::Table>()
            .map_err(|e| format!("{shown}: {}", e.message()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => return Err(format!("{shown}: cannot read: {e}")),
    };
    let Some(b) = table.get("backend") else {
        return Ok(Config {
            place: state.map_or_else(local, |p| Place::Local(p.to_path_buf())),
            s3: None,
            encryption: Encryption::None,
        });
    };
    let b = b
        .as_table()
        .ok_or_else(|| format!("{shown}: `backend` is a table: [backend]"))?;
    const KNOWN: [&str; 9] = [
        "type",
        "bucket",
        "key",
        "region",
        "encryption",
        "kms_key_id",
        "kms_region",
        "lock",
        "dynamodb_table",
    ];
    if let Some(k) = b.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "{shown}: unknown setting `{k}` in [backend] (known: {})",
            KNOWN.join(", ")
        ));
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match b.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .filter(|s| !s.is_empty())
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| format!("{shown}: [backend] `{k}` is a non-empty string")),
        }
    };
    let need = |k: &str, what: &str| -> Result<String, String> {
        text(k)?.ok_or_else(|| format!("{shown}: [backend] needs `{k}` ({what})"))
    };
    let lock_table = match text("lock")?.as_deref() {
        None | Some("s3") => None,
        Some("dynamodb") => Some(need(
            "dynamodb_table",
            "the DynamoDB table of locks, keyed by the string `LockID`",
        )?),
        Some(other) => {
            return Err(format!(
                "{shown}: [backend] lock `{other}` is not known: \"s3\" or \"dynamodb\""
            ));
        }
    };
    let s3 = match text("bucket")? {
        Some(bucket) => Some(Place::S3 {
            bucket,
            key: need(
                "key",
                "the state object's key, e.g. \"global/global.state.json\"",
            )?,
            region: need("region", "the bucket's region, e.g. \"us-east-1\"")?,
            lock_table,
        }),
        None => None,
    };
    let place = match (text("type")?.as_deref(), state) {
        (_, Some(p)) => Place::Local(p.to_path_buf()),
        (None | Some("local"), None) => local(),
        (Some("s3"), None) => s3.clone().ok_or_else(|| {
            format!("{shown}: [backend] type = \"s3\" needs `bucket`, `key` and `region`")
        })?,
        (Some(other), None) => {
            return Err(format!(
                "{shown}: [backend] type `{other}` is not known: \"local\" or \"s3\""
            ));
        }
    };
    let encryption = match text("encryption")?.as_deref() {
        None | Some("none") => Encryption::None,
        Some("passphrase") => Encryption::Passphrase,
        Some("aws_kms") => Encryption::Kms {
            key_id: need("kms_key_id", "the KMS key that makes the data keys")?,
            region: match (text("kms_region")?, &s3) {
                (Some(r), _) => r,
                (None, Some(Place::S3 { region, .. })) => region.clone(),
                (None, _) => need("kms_region", "the KMS key's region")?,
            },
        },
        Some(other) => {
            return Err(format!(
                "{shown}: [backend] encryption `{other}` is not known: \"none\", \"aws_kms\" or \"passphrase\""
            ));
        }
    };
    Ok(Config {
        place,
        s3,
        encryption,
    })
}

/// The codec of `encryption`, or why it cannot be made.
pub fn codec(encryption: &Encryption) -> Result<Codec, String> {
    Ok(match encryption {
        Encryption::None => Codec::Plain,
        Encryption::Passphrase => {
            let p = std::env::var(PASSPHRASE_VAR).unwrap_or_default();
            if p.is_empty() {
                return Err(format!(
                    "the state is encrypted with a passphrase (carbon.toml): set {PASSPHRASE_VAR}"
                ));
            }
            Codec::passphrase(p)
        }
        Encryption::Kms { key_id, region } => {
            Codec::kms(Arc::new(KmsDataKeys::new(key_id, region)?))
        }
    })
}

/// The backend at `place`, encrypting with `codec`.
pub fn at(place: &Place, codec: Codec) -> Result<Arc<dyn StateBackend>, String> {
    Ok(match place {
        Place::Local(p) => Arc::new(LocalBackend::new(p).with_codec(codec)),
        Place::S3 {
            bucket,
            key,
            region,
            lock_table,
        } => Arc::new(S3Backend::new(
            bucket,
            key,
            region,
            codec,
            lock_table.as_deref(),
        )?),
    })
}

/// The backend of the root file `root` (or the local file `state`).
pub fn open(root: &str, state: Option<&Path>) -> Result<Arc<dyn StateBackend>, String> {
    let c = config(root, state)?;
    at(&c.place, codec(&c.encryption)?)
}

/// A plan saved by `plan --out`: plain JSON, or encrypted as its root file's configuration says
/// (the envelope names the root file).
pub fn read_saved_plan(path: &str) -> Result<carbonc_plan::Plan, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let plain = if carbonc_state::crypt::is_encrypted(&bytes) {
        let root = carbonc_state::crypt::label(&bytes, "root")
            .ok_or_else(|| format!("{path}: an encrypted plan that names no root file"))?;
        let codec = codec(&config(&root, None)?.encryption)?;
        codec.decode(&bytes).map_err(|e| format!("{path}: {e}"))?
    } else {
        bytes
    };
    let text = String::from_utf8(plain).map_err(|_| format!("{path}: not UTF-8"))?;
    carbonc_plan::json::from_json(&text).map_err(|why| format!("{path}: {why}"))
}

/// The backend a saved plan was made against: its recorded location (a local path or
/// `s3://...`), unless `state` names a local file.
pub fn of_plan(
    plan: &carbonc_plan::Plan,
    state: Option<&Path>,
) -> Result<Arc<dyn StateBackend>, String> {
    match (state, plan.state.path.as_deref()) {
        (Some(p), _) => open(&plan.root, Some(p)),
        (None, Some(loc)) if !loc.starts_with("s3://") => open(&plan.root, Some(Path::new(loc))),
        _ => open(&plan.root, None),
    }
}

/// `dir/name.carbon` -> `dir/.carbon/name.state.json`.
pub fn default_state_path(root: &str) -> PathBuf {
    let p = Path::new(root);
    let stem = p
        .file_stem()
        .map_or("carbon".into(), |s| s.to_string_lossy().into_owned());
    p.parent()
        .unwrap_or(Path::new(""))
        .join(".carbon")
        .join(format!("{stem}.state.json"))
}
