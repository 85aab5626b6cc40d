//! State in S3 against the emulator: the lock under concurrent applies, conditional writes,
//! force-unlock after a crash, client-side encryption (KMS and passphrase), and migration. The
//! state object is always checked by reading it straight from S3 (boto3), not through carbonc.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::*;

const BUCKET: &str = "carbon-team-state";
const KEY: &str = "team/main.state.json";

/// Five KMS keys and a secret: enough calls that an apply through a slow proxy takes seconds.
const PROGRAM: &str = r#"region use1 { code = "us-east-1", role = .primary }
param note: String = "v1"
param token: Secret<String>
for n in ["a", "b", "c", "d", "e"] {
    resource aws.kms.Key key @ use1 { description = "team key ${n} ${note}" }
}
resource aws.secretsmanager.Secret api_token @ use1 {
    name = "team/token"
    secret_string = token
    recovery_window_in_days = 0
}
"#;

fn s3_toml(extra: &str) -> String {
    format!(
        "[backend]\ntype = \"s3\"\nbucket = \"{BUCKET}\"\nkey = \"{KEY}\"\nregion = \"us-east-1\"\n{extra}"
    )
}

/// A directory with the program and a carbon.toml, and the bucket (versioned) in the emulator.
fn team_dir(emu: &Emulator, name: &str, toml: &str) -> std::path::PathBuf {
    let d = bucket_dir(emu, name, toml);
    emu.call(
        "us-east-1",
        "s3",
        "put_bucket_versioning",
        serde_json::json!({ "Bucket": BUCKET, "VersioningConfiguration": { "Status": "Enabled" } }),
    );
    d
}

/// The same with a bucket that keeps no old versions.
fn bucket_dir(emu: &Emulator, name: &str, toml: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-s3-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("main.carbon"), PROGRAM).unwrap();
    std::fs::write(d.join("carbon.toml"), toml).unwrap();
    emu.call(
        "us-east-1",
        "s3",
        "create_bucket",
        serde_json::json!({ "Bucket": BUCKET }),
    );
    d
}

/// Every object of the bucket: key -> body.
fn objects(emu: &Emulator) -> Vec<(String, String)> {
    let list = emu.call(
        "us-east-1",
        "s3",
        "list_objects_v2",
        serde_json::json!({ "Bucket": BUCKET }),
    );
    list["Contents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let key = o["Key"].as_str().unwrap_or_default().to_string();
            let body = emu.call(
                "us-east-1",
                "s3",
                "get_object",
                serde_json::json!({ "Bucket": BUCKET, "Key": key }),
            )["Body"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (key, body)
        })
        .collect()
}

/// The state object, parsed (plain state only).
fn state_object(emu: &Emulator) -> serde_json::Value {
    let body = objects(emu)
        .into_iter()
        .find(|(k, _)| k == KEY)
        .map(|(_, b)| b)
        .expect("the state object exists");
    serde_json::from_str(&body).expect("the state object is plain JSON")
}

fn addresses(state: &serde_json::Value) -> Vec<String> {
    let mut a: Vec<String> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "intent")
        .map(|r| r["address"].as_str().unwrap().to_string())
        .collect();
    a.sort();
    a
}

const ALL: [&str; 6] = [
    "api_token",
    "key[a]",
    "key[b]",
    "key[c]",
    "key[d]",
    "key[e]",
];

fn spawn(
    dir: &Path,
    env: &std::collections::BTreeMap<String, String>,
    args: &[&str],
) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        .env("CARBON_VAR_token", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("carbonc starts")
}

fn lock_exists(emu: &Emulator) -> bool {
    objects(emu)
        .iter()
        .any(|(k, _)| k == &format!("{KEY}.lock"))
}

/// Two `apply --lock-timeout 1s` started at the same moment through a slow endpoint: asserts that
/// exactly one succeeds; returns the stderr of each (the loser's last).
fn race(emu: &Emulator, d: &Path) -> (String, String) {
    // The lock holder's first state write is held until the other apply has given up, so the
    // two overlap whatever the speed of the machine (only a lock holder writes the state).
    let hold = format!("PUT ^/{BUCKET}/{KEY}(\\?|$) 1");
    let slow = FaultProxy::start(emu, &["--hold", &hold]);
    let args = [
        "apply",
        "--auto-approve",
        "--lock-timeout",
        "1s",
        "main.carbon",
    ];
    let mut a = spawn(d, &slow.env, &args);
    let mut b = spawn(d, &slow.env, &args);
    slow.wait_held(Duration::from_secs(120));
    // The other one waits for the lock for 1 s, then exits; only then does the holder go on.
    let start = Instant::now();
    let loser_done = |c: &mut std::process::Child| c.try_wait().unwrap().is_some();
    while !loser_done(&mut a) && !loser_done(&mut b) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "neither apply gave up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    slow.release();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    slow.finish();
    let winners = [&a, &b].iter().filter(|o| o.status.success()).count();
    assert_eq!(winners, 1, "exactly one apply runs");
    let (won, lost) = if a.status.success() { (a, b) } else { (b, a) };
    (
        String::from_utf8_lossy(&won.stderr).into_owned(),
        String::from_utf8_lossy(&lost.stderr).into_owned(),
    )
}

/// Two applies started at the same moment on the same S3 state: exactly one runs; the other waits
/// for `--lock-timeout` and fails naming the holder. The state object then holds every resource,
/// and the lock is gone.
#[test]
fn two_applies_at_once_one_runs_the_other_names_the_holder() {
    let emu = Emulator::start();
    let d = team_dir(&emu, "race", &s3_toml(""));
    let (won, err) = race(&emu, &d);
    assert!(
        err.contains("the state is locked by another carbonc")
            && err.contains(&format!("s3://{BUCKET}/{KEY}.lock"))
            && err.contains("Holder:")
            && err.contains("Operation: apply")
            && err.contains("Waited 1."),
        "{err}"
    );
    for e in [&won, &err] {
        assert!(!e.contains("versioning"), "a versioned bucket: {e}");
    }
    let state = state_object(&emu);
    assert_eq!(addresses(&state), ALL, "{state}");
    assert!(!lock_exists(&emu), "the lock is released");
    // The loser, run again, finds nothing left to do: nothing was lost.
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[("CARBON_VAR_token", SECRET)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// A state written behind carbonc's back while it applies: carbonc's next write carries a stale
/// ETag, S3 refuses it, and the object is left as the other writer made it.
#[test]
fn a_write_with_a_stale_etag_is_refused_and_overwrites_nothing() {
    let emu = Emulator::start();
    let d = team_dir(&emu, "etag", &s3_toml(""));
    // The proxy holds carbonc's second write of the state object: the first (its first intent)
    // has landed, the next has not, whatever the speed of the machine.
    let hold = format!("PUT ^/{BUCKET}/{KEY}(\\?|$) 2");
    let slow = FaultProxy::start(&emu, &["--hold", &hold]);
    let child = spawn(
        &d,
        &slow.env,
        &[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "main.carbon",
        ],
    );
    slow.wait_held(Duration::from_secs(120));
    // Between those two writes, someone else rewrites the state.
    let mut s = state_object(&emu);
    s["serial"] = serde_json::json!(s["serial"].as_u64().unwrap() + 100);
    let theirs = serde_json::to_string_pretty(&s).unwrap();
    emu.call(
        "us-east-1",
        "s3",
        "put_object",
        serde_json::json!({ "Bucket": BUCKET, "Key": KEY, "Body": theirs }),
    );
    slow.release();
    let out = child.wait_with_output().unwrap();
    slow.finish();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the state object changed since this carbonc read it")
            && err.contains("Nothing was written"),
        "{err}"
    );
    let body = objects(&emu)
        .into_iter()
        .find(|(k, _)| k == KEY)
        .map(|(_, b)| b)
        .unwrap();
    assert_eq!(body, theirs, "the other writer's state is intact");
    assert!(
        !lock_exists(&emu),
        "the lock is released on the error path too"
    );
}

/// carbonc killed while it holds the lock leaves it; the next apply names it; `force-unlock` with
/// its ID removes it; then apply converges (adopting what the killed one created).
#[test]
fn a_lock_left_by_a_crash_is_removed_by_force_unlock() {
    let emu = Emulator::start();
    let d = team_dir(&emu, "crash", &s3_toml(""));
    // Killed while its second state write is held: the lock is taken, one action is recorded.
    let hold = format!("PUT ^/{BUCKET}/{KEY}(\\?|$) 2");
    let slow = FaultProxy::start(&emu, &["--hold", &hold]);
    let mut child = spawn(
        &d,
        &slow.env,
        &[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "main.carbon",
        ],
    );
    slow.wait_held(Duration::from_secs(120));
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
    slow.finish();
    assert!(lock_exists(&emu), "a killed carbonc leaves its lock");

    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let id = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Lock ID:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no lock ID in: {}", r.stderr));
    assert!(
        r.stderr
            .contains(&format!("carbonc force-unlock {id} FILE")),
        "{}",
        r.stderr
    );

    let r = carbonc(
        &d,
        &emu,
        &["force-unlock", "not-the-id", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 1, "a wrong ID unlocks nothing: {}", r.stderr);
    assert!(lock_exists(&emu));
    let r = carbonc(&d, &emu, &["force-unlock", &id, "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("Removed lock {id}")),
        "{}",
        r.stdout
    );
    assert!(!lock_exists(&emu));

    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(addresses(&state_object(&emu)), ALL);
    let keys = emu.inventory()["kms@us-east-1"].as_array().unwrap().len();
    assert_eq!(keys, 5, "no key was made twice");
}

/// With KMS encryption the objects in S3 hold no attribute value and no secret; a key KMS will not
/// use (disabled) is a clear error that changes nothing; plans saved with `--out` are encrypted
/// too and still shown and applied.
#[test]
fn kms_encrypted_state_hides_everything_and_a_refused_key_changes_nothing() {
    let emu = Emulator::start();
    let key = emu.call(
        "us-east-1",
        "kms",
        "create_key",
        serde_json::json!({ "Description": "carbon state" }),
    );
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    emu.call(
        "us-east-1",
        "kms",
        "create_alias",
        serde_json::json!({ "AliasName": "alias/carbon-state", "TargetKeyId": key_id }),
    );
    let d = team_dir(
        &emu,
        "kms",
        &s3_toml("encryption = \"aws_kms\"\nkms_key_id = \"alias/carbon-state\"\n"),
    );
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let all = objects(&emu);
    assert_eq!(
        all.len(),
        2,
        "the state and its key of secret hashes: {all:?}"
    );
    for (k, body) in &all {
        assert!(
            body.starts_with("{\"carbonc_encryption\""),
            "{k} is not encrypted: {body}"
        );
        for plain in ["team key", "lineage", "team/token", "aws.kms.Key", SECRET] {
            assert!(!body.contains(plain), "{k} shows `{plain}`");
        }
    }
    let r = carbonc(&d, &emu, &["state", "pull", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("team key a v1") && !r.stdout.contains(SECRET));

    // A saved plan is encrypted the same way, and still shown and applied.
    let v2 = [("CARBON_VAR_token", SECRET), ("CARBON_VAR_note", "v2")];
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--out", "next.plan", "main.carbon"],
        &v2,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let saved = std::fs::read_to_string(d.join("next.plan")).unwrap();
    assert!(saved.starts_with("{\"carbonc_encryption\"") && !saved.contains("team key"));
    let r = carbonc(&d, &emu, &["show", "next.plan"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("\"team key a v1\" -> \"team key a v2\""),
        "{}",
        r.stdout
    );
    let r = carbonc(&d, &emu, &["apply", "next.plan"], &v2);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Resources: 0 added, 5 changed"),
        "{}",
        r.stdout
    );

    // KMS refuses the key now: every command says so, and the objects are unchanged.
    let before = objects(&emu);
    emu.call(
        "us-east-1",
        "kms",
        "disable_key",
        serde_json::json!({ "KeyId": key_id }),
    );
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &v2);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!("s3://{BUCKET}/{KEY}"))
            && r.stderr.contains("cannot decrypt it (aws_kms)")
            && r.stderr.contains("nothing was changed"),
        "{}",
        r.stderr
    );
    assert_eq!(objects(&emu), before);
}

/// Passphrase encryption: the wrong passphrase is a clear error that changes nothing; `state
/// rekey` moves the state to a new passphrase (the old one given as
/// `CARBONC_STATE_PASSPHRASE_OLD`), after which only the new one reads it.
#[test]
fn a_wrong_passphrase_changes_nothing_and_rekey_moves_to_a_new_one() {
    let emu = Emulator::start();
    // A plain state first, in a bucket without versioning (which carbonc warns about).
    let d = bucket_dir(&emu, "pass", &s3_toml(""));
    let first = [
        ("CARBON_VAR_token", SECRET),
        ("CARBONC_STATE_PASSPHRASE", "first passphrase"),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &first,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains(&format!("the S3 bucket `{BUCKET}` has versioning off")),
        "{}",
        r.stderr
    );
    assert!(
        objects(&emu)
            .iter()
            .all(|(_, b)| !b.contains("carbonc_encryption"))
    );
    // Encryption switched on: the plain state is still read, and `rekey` encrypts it.
    std::fs::write(
        d.join("carbon.toml"),
        s3_toml("encryption = \"passphrase\"\n"),
    )
    .unwrap();
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &first,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = carbonc(&d, &emu, &["state", "rekey", "main.carbon"], &first);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let before = objects(&emu);
    assert_eq!(before.len(), 2);
    for (k, body) in &before {
        assert!(body.starts_with("{\"carbonc_encryption\""), "{k}: {body}");
    }
    let wrong = [
        ("CARBON_VAR_token", SECRET),
        ("CARBONC_STATE_PASSPHRASE", "not it"),
    ];
    let r = carbonc(&d, &emu, &["plan", "main.carbon"], &wrong);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("cannot decrypt it (pbkdf2): authentication failed"),
        "{}",
        r.stderr
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "main.carbon"],
        &[("CARBON_VAR_token", SECRET)],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("set CARBONC_STATE_PASSPHRASE"),
        "{}",
        r.stderr
    );
    assert_eq!(objects(&emu), before, "nothing was changed");

    let r = carbonc(
        &d,
        &emu,
        &["state", "rekey", "main.carbon"],
        &[
            ("CARBONC_STATE_PASSPHRASE_OLD", "first passphrase"),
            ("CARBONC_STATE_PASSPHRASE", "second passphrase"),
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let second = [
        ("CARBON_VAR_token", SECRET),
        ("CARBONC_STATE_PASSPHRASE", "second passphrase"),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &second,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = carbonc(&d, &emu, &["plan", "main.carbon"], &first);
    assert_eq!(r.code, 1, "the old passphrase no longer reads it");
}

/// local -> S3 -> local: lineage and serial kept, and the same plan every time.
#[test]
fn migration_local_to_s3_and_back_keeps_the_plan() {
    let emu = Emulator::start();
    let local_toml = format!(
        "[backend]\ntype = \"local\"\nbucket = \"{BUCKET}\"\nkey = \"{KEY}\"\nregion = \"us-east-1\"\n"
    );
    let d = team_dir(&emu, "migrate", &local_toml);
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v2 = [("CARBON_VAR_token", SECRET), ("CARBON_VAR_note", "v2")];
    let plan = |label: &str| {
        let r = carbonc(&d, &emu, &["plan", "--refresh=false", "main.carbon"], &v2);
        assert_eq!(r.code, 0, "{label}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("5 to change"), "{label}: {}", r.stdout);
        let j = carbonc(
            &d,
            &emu,
            &["plan", "--refresh=false", "--json", "main.carbon"],
            &v2,
        );
        let mut j: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
        j["state"]["path"] = serde_json::Value::Null;
        (r.stdout, j)
    };
    let local_plan = plan("local");
    let local_state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();

    let r = carbonc(
        &d,
        &emu,
        &["state", "migrate", "--to", "s3", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        serde_json::to_string(&state_object(&emu)).unwrap(),
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&local_state).unwrap())
            .unwrap(),
        "lineage, serial and everything else kept"
    );
    std::fs::remove_dir_all(d.join(".carbon")).unwrap();
    std::fs::write(d.join("carbon.toml"), s3_toml("")).unwrap();
    assert_eq!(plan("s3"), local_plan);

    let r = carbonc(
        &d,
        &emu,
        &["state", "migrate", "--to", "local", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    std::fs::write(d.join("carbon.toml"), &local_toml).unwrap();
    assert_eq!(plan("local again"), local_plan);
    assert_eq!(
        std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap(),
        local_state
    );

    // `state push` into S3: refused for an older serial and for another lineage, taken for a
    // newer serial of the same lineage.
    std::fs::write(d.join("carbon.toml"), s3_toml("")).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&local_state).unwrap();
    let serial = state["serial"].as_u64().unwrap();
    let push = |state: &serde_json::Value| {
        std::fs::write(d.join("pushed.json"), serde_json::to_string(state).unwrap()).unwrap();
        carbonc(
            &d,
            &emu,
            &["state", "push", "pushed.json", "main.carbon"],
            &[],
        )
    };
    state["serial"] = serde_json::json!(serial - 1);
    let r = push(&state);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("holds a newer state"), "{}", r.stderr);
    state["serial"] = serde_json::json!(serial + 1);
    state["lineage"] = serde_json::json!("00000000-0000-4000-8000-000000000000");
    let r = push(&state);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("another lineage"), "{}", r.stderr);
    assert_eq!(state_object(&emu)["serial"], serial, "nothing was written");
    state["lineage"] =
        serde_json::from_str::<serde_json::Value>(&local_state).unwrap()["lineage"].clone();
    let r = push(&state);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(state_object(&emu)["serial"], serial + 1);
    let r = carbonc(&d, &emu, &["state", "pull", "main.carbon"], &[]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["serial"],
        serial + 1
    );
}

/// Ctrl-C (SIGINT) mid-apply: the calls under way finish, the state is saved, and the lock object
/// is deleted on the way out.
#[test]
fn ctrl_c_releases_the_s3_lock() {
    let emu = Emulator::start();
    let d = team_dir(&emu, "sigint", &s3_toml(""));
    // Held at its second state write: one action is recorded, the others have not started.
    let hold = format!("PUT ^/{BUCKET}/{KEY}(\\?|$) 2");
    let slow = FaultProxy::start(&emu, &["--hold", &hold]);
    let child = spawn(
        &d,
        &slow.env,
        &[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "main.carbon",
        ],
    );
    slow.wait_held(Duration::from_secs(120));
    assert!(lock_exists(&emu));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    slow.release();
    let out = child.wait_with_output().unwrap();
    slow.finish();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Interrupted"), "{err}");
    assert!(!lock_exists(&emu), "the lock is released on Ctrl-C");
    let created = addresses(&state_object(&emu));
    assert!(
        !created.is_empty() && created.len() < ALL.len(),
        "{created:?}"
    );
}

/// `lock = "dynamodb"`: the lock is an item of a DynamoDB table (as with Terraform's
/// `dynamodb_table`); of two applies at once one runs and the other names the holder, and the item
/// is gone afterwards.
#[test]
fn a_dynamodb_lock_table_serialises_applies() {
    let emu = Emulator::start();
    let d = team_dir(
        &emu,
        "dynamo",
        &s3_toml("lock = \"dynamodb\"\ndynamodb_table = \"carbon-locks\"\n"),
    );
    emu.call(
        "us-east-1",
        "dynamodb",
        "create_table",
        serde_json::json!({
            "TableName": "carbon-locks",
            "KeySchema": [{ "AttributeName": "LockID", "KeyType": "HASH" }],
            "AttributeDefinitions": [{ "AttributeName": "LockID", "AttributeType": "S" }],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
    let items = || {
        emu.call(
            "us-east-1",
            "dynamodb",
            "scan",
            serde_json::json!({ "TableName": "carbon-locks" }),
        )["Count"]
            .as_u64()
            .unwrap_or(99)
    };
    let (_, err) = race(&emu, &d);
    assert!(
        err.contains(&format!("dynamodb://carbon-locks/{BUCKET}/{KEY}"))
            && err.contains("Operation: apply"),
        "{err}"
    );
    assert_eq!(items(), 0, "the lock item is deleted");
    assert!(!lock_exists(&emu), "no S3 lock object in this mode");
    assert_eq!(addresses(&state_object(&emu)), ALL);
}
