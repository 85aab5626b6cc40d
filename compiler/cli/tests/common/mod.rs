//! The harness of the tests against the AWS emulator: an emulator per test (started by
//! `scripts/emulator`, stopped when dropped), and carbonc run against it.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
    .canonicalize()
    .expect("repo")
}

/// An emulator for one test, stopped when dropped.
pub struct Emulator {
    pub url: String,
    pub env: BTreeMap<String, String>,
}

impl Emulator {
    pub fn start() -> Emulator {
        let out = Command::new(repo().join("scripts/emulator"))
            .arg("start")
            .output()
            .expect("scripts/emulator runs");
        assert!(
            out.status.success(),
            "the emulator did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new(repo().join("scripts/emulator"))
            .args(["env", &url])
            .output()
            .expect("env");
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches(['\'', '"']).to_string()))
            .collect();
        Emulator { url, env }
    }

    pub fn inventory(&self) -> serde_json::Value {
        self.python("inventory.py", &["us-east-1", "eu-west-1"])
    }

    /// One AWS API call through boto3, behind carbonc's back.
    pub fn call(
        &self,
        region: &str,
        service: &str,
        operation: &str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        self.python(
            "aws_call.py",
            &[region, service, operation, &params.to_string()],
        )
    }

    pub fn python(&self, script: &str, args: &[&str]) -> serde_json::Value {
        let venv = std::env::var("CARBONC_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/carbonc/venv")
            });
        let out = Command::new(venv.join("bin/python"))
            .arg(repo().join("tests/emulator").join(script))
            .arg(&self.url)
            .args(args)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/emulator"))
            .args(["stop", &self.url])
            .output();
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn carbonc(dir: &Path, emu: &Emulator, args: &[&str], extra: &[(&str, &str)]) -> Run {
    carbonc_with(dir, &emu.env, args, extra)
}

pub fn carbonc_with(
    dir: &Path,
    env: &BTreeMap<String, String>,
    args: &[&str],
    extra: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(args).current_dir(dir).env_remove("AWS_PROFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("carbonc runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub const SECRET: &str = "s3cr3t-t0ken-never-shown";

/// A fresh directory holding the apply fixture as `main.carbon`.
pub fn fixture(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        repo().join("tests/apply/network.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    d
}

/// The fault-injecting proxy (`tests/emulator/fault_proxy.py`) in front of an emulator; `env`
/// points the SDK at it.
pub struct FaultProxy {
    child: std::process::Child,
    pub env: BTreeMap<String, String>,
}

impl FaultProxy {
    pub fn start(emu: &Emulator, args: &[&str]) -> FaultProxy {
        use std::io::BufRead;
        let venv = std::env::var("CARBONC_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/carbonc/venv")
            });
        let mut child = Command::new(venv.join("bin/python"))
            .arg(repo().join("tests/emulator/fault_proxy.py"))
            .arg(&emu.url)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the proxy starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the proxy prints its URL");
        let mut env = emu.env.clone();
        for (k, v) in env.iter_mut() {
            if k.starts_with("AWS_ENDPOINT_URL") {
                *v = line.trim().to_string();
            }
        }
        FaultProxy { child, env }
    }

    /// Stops the proxy; returns how many faults of each kind it injected.
    pub fn finish(mut self) -> serde_json::Value {
        use std::io::Read;
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let mut err = String::new();
        let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
        serde_json::from_str(err.lines().last().unwrap_or("{}")).unwrap_or_default()
    }
}
