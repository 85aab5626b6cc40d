//! Moving state between places and keys: `carbonc state pull`, `push`, `migrate` and `rekey`.
//!
//! Every one keeps the state's lineage and serial, takes the lock of the backend it writes, and
//! refuses to overwrite a state of another lineage or a newer serial.

use std::path::Path;
use std::process::ExitCode;

use carbonc_state::{Codec, State, StateBackend};

use crate::backend::{self, Encryption, Place};
use crate::plan::PlanArgs;
use crate::report;

fn fail(m: impl std::fmt::Display) -> ExitCode {
    report::error(m);
    ExitCode::from(1)
}

/// Whether `incoming` may replace `current` in a backend: no state there, or the same lineage and
/// an older serial. The same serial is a copy already made (`Ok(false)`).
fn may_replace(current: Option<&State>, incoming: &State, where_: &str) -> Result<bool, String> {
    let Some(cur) = current else { return Ok(true) };
    if cur.lineage != incoming.lineage {
        return Err(format!(
            "{where_} holds a state of another lineage ({}, this one is {}); nothing was written",
            cur.lineage, incoming.lineage
        ));
    }
    if cur.serial > incoming.serial {
        return Err(format!(
            "{where_} holds a newer state (serial {} > {}); nothing was written",
            cur.serial, incoming.serial
        ));
    }
    Ok(cur.serial < incoming.serial)
}

/// Writes `state` (and its key of secret hashes) to `to`, under `to`'s lock.
fn copy_into(
    state: &State,
    key: Option<carbonc_state::SecretKey>,
    to: &dyn StateBackend,
    args: &PlanArgs,
    operation: &str,
) -> Result<bool, String> {
    let _lock = to
        .lock(operation, args.lock_timeout)
        .map_err(|e| e.to_string())?;
    let current = to.read().map_err(|e| e.to_string())?;
    if !may_replace(current.as_ref(), state, &to.location())? {
        return Ok(false);
    }
    if let Some(k) = &key {
        to.import_secret_key(k).map_err(|e| e.to_string())?;
    }
    // The backend refuses a serial that is not newer than the stored one; an empty backend takes
    // the state as it is, serial included.
    to.write(state).map_err(|e| e.to_string())?;
    Ok(true)
}

/// `carbonc state pull FILE`: the state, decrypted, as JSON on stdout.
pub fn pull(args: &PlanArgs) -> ExitCode {
    let backend = match backend::open(&args.file, args.state.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    match backend.read() {
        Ok(Some(s)) => {
            print!("{}", carbonc_state::format::to_text(&s));
            ExitCode::SUCCESS
        }
        Ok(None) => fail(format!("{}: there is no state", backend.location())),
        Err(e) => fail(e),
    }
}

/// `carbonc state push SOURCE FILE`: a state file (plain, or encrypted as configured) into the
/// backend, when it continues the stored state (same lineage, newer serial) or there is none.
pub fn push(source: &Path, args: &PlanArgs) -> ExitCode {
    let backend = match backend::open(&args.file, args.state.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let from = carbonc_state::LocalBackend::new(source).with_codec(backend.codec().clone());
    let state = match from.read() {
        Ok(Some(s)) => s,
        Ok(None) => return fail(format!("{}: no such state file", source.display())),
        Err(e) => return fail(e),
    };
    match copy_into(&state, None, backend.as_ref(), args, "state push") {
        Ok(true) => {
            println!(
                "Pushed {} (lineage {}, serial {}) to {}.",
                source.display(),
                state.lineage,
                state.serial,
                backend.location()
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!(
                "{} already holds serial {} of lineage {}; nothing to push.",
                backend.location(),
                state.serial,
                state.lineage
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `carbonc state migrate --to s3|local FILE`: copies the state and its key of secret hashes from
/// the local file to the S3 backend of carbon.toml, or back. Lineage and serial are kept; the
/// source is left as it was (remove it, and switch `type` in carbon.toml, once the copy is
/// checked).
pub fn migrate(to: &str, args: &PlanArgs) -> ExitCode {
    let config = match backend::config(&args.file, None) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let Some(s3) = config.s3.clone() else {
        return fail(format!(
            "{}: [backend] in carbon.toml names no S3 bucket (`bucket`, `key`, `region`) to migrate to or from",
            args.file
        ));
    };
    let local = Place::Local(
        args.state
            .clone()
            .unwrap_or_else(|| crate::backend::default_state_path(&args.file)),
    );
    let (from, into) = match to {
        "s3" => (local, s3),
        "local" => (s3, local),
        other => {
            return fail(format!(
                "`--to {other}`: the destination is `s3` or `local`"
            ));
        }
    };
    let codec = match backend::codec(&config.encryption) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let open = |p: &Place| backend::at(p, codec.clone());
    let (source, dest) = match (open(&from), open(&into)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let _source_lock = match source.lock("state migrate", args.lock_timeout) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let state = match source.read() {
        Ok(Some(s)) => s,
        Ok(None) => {
            return fail(format!(
                "{}: there is no state to migrate",
                source.location()
            ));
        }
        Err(e) => return fail(e),
    };
    let key = match source.existing_secret_key() {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    match copy_into(&state, key, dest.as_ref(), args, "state migrate") {
        Ok(copied) => {
            println!(
                "{} {} (lineage {}, serial {}) to {}.{}",
                if copied { "Copied" } else { "Already copied" },
                source.location(),
                state.lineage,
                state.serial,
                dest.location(),
                if to == "s3" {
                    " Set `type = \"s3\"` in carbon.toml's [backend] to use it."
                } else {
                    " Set `type = \"local\"` in carbon.toml's [backend] to use it."
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// The codec that reads what is stored now: the envelope's own method (a passphrase from
/// `CARBONC_STATE_PASSPHRASE_OLD`, else the current one; the KMS key the envelope names), so that
/// `rekey` can move between keys and methods.
fn old_codec(bytes: Option<&[u8]>, config: &backend::Config) -> Result<Codec, String> {
    let Some(bytes) = bytes.filter(|b| carbonc_state::crypt::is_encrypted(b)) else {
        return Ok(Codec::Plain);
    };
    let env: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match env["method"].as_str() {
        Some("pbkdf2") => {
            let p = std::env::var(format!("{}_OLD", backend::PASSPHRASE_VAR))
                .or_else(|_| std::env::var(backend::PASSPHRASE_VAR))
                .unwrap_or_default();
            if p.is_empty() {
                return Err(format!(
                    "the state is encrypted with a passphrase: set {}_OLD (or {}) to read it",
                    backend::PASSPHRASE_VAR,
                    backend::PASSPHRASE_VAR
                ));
            }
            Ok(Codec::passphrase(p))
        }
        Some("aws_kms") => {
            let key_id = env["kms_key_id"].as_str().unwrap_or_default().to_string();
            // A KMS key ARN names its region: arn:aws:kms:REGION:ACCOUNT:key/ID.
            let region = key_id
                .split(':')
                .nth(3)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .or(match &config.encryption {
                    Encryption::Kms { region, .. } => Some(region.clone()),
                    _ => None,
                })
                .or(match &config.s3 {
                    Some(Place::S3 { region, .. }) => Some(region.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "us-east-1".into());
            backend::codec(&Encryption::Kms { key_id, region })
        }
        other => Err(format!(
            "the state is encrypted with an unknown method {other:?}"
        )),
    }
}

/// `carbonc state rekey FILE`: reads the state as it is encrypted now (or plain) and writes it
/// again as carbon.toml says today: a new data key, a new KMS key or passphrase, or no encryption.
pub fn rekey(args: &PlanArgs) -> ExitCode {
    let config = match backend::config(&args.file, args.state.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let new = match backend::codec(&config.encryption) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let backend = match backend::at(&config.place, new.clone()) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let _lock = match backend.lock("state rekey", args.lock_timeout) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let raw = match backend.read_raw() {
        Ok(Some(b)) => b,
        Ok(None) => return fail(format!("{}: there is no state", backend.location())),
        Err(e) => return fail(e),
    };
    let old = match old_codec(Some(&raw), &config) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let plain = match old.decode(&raw) {
        Ok(p) => p,
        Err(e) => return fail(format!("{}: {e}", backend.location())),
    };
    // The key of secret hashes, as encrypted now (or already re-encrypted by an interrupted rekey).
    let hash_key = match backend::at(&config.place, old)
        .and_then(|b| b.existing_secret_key().map_err(|e| e.to_string()))
        .or_else(|_| backend.existing_secret_key().map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let path = std::path::PathBuf::from(backend.location());
    let mut state = match String::from_utf8(plain)
        .map_err(|_| format!("{}: not UTF-8", path.display()))
        .and_then(|t| carbonc_state::format::parse(&path, &t).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Some(k) = &hash_key
        && let Err(e) = backend.replace_secret_key(k)
    {
        return fail(e);
    }
    state.serial += 1;
    if let Err(e) = backend.write(&state) {
        return fail(e);
    }
    println!(
        "Re-encrypted {} (serial {}): {}.",
        backend.location(),
        state.serial,
        new.describe()
    );
    ExitCode::SUCCESS
}
