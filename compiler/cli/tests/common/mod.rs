//! The harness of the tests against the AWS emulator: an emulator per test (started by
//! `scripts/emulator`, stopped when dropped), and carbonc run against it.
#![allow(dead_code)] // each test binary uses a different part

pub mod coverage;
pub mod readback;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's Python venv (`scripts/emulator install`): `$CARBONC_VENV`, else
/// `~/.cache/carbonc/venv`.
pub fn venv() -> PathBuf {
    std::env::var("CARBONC_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/carbonc/venv")
        })
}

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
        Emulator::start_with(&[])
    }

    /// An emulator whose server sees these environment variables (the plugins' switches, such as
    /// `CARBONC_EMULATOR_FAIL_EKS_UPDATES`).
    pub fn start_with(vars: &[(&str, &str)]) -> Emulator {
        let out = Command::new(repo().join("scripts/emulator"))
            .arg("start")
            .envs(vars.iter().copied())
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
        let mut env: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches(['\'', '"']).to_string()))
            .collect();
        // Helm releases are installed by the real Helm engine behind its test front (no helm
        // binary is installable here), into the emulator's Kubernetes API.
        env.insert(
            "CARBONC_HELM".into(),
            repo().join("tests/kube/helm").display().to_string(),
        );
        Emulator { url, env }
    }

    /// What the emulator's request validator saw (`/carbonc-api/validation`): requests checked
    /// against AWS's service models, per service and operation, and every violation it refused.
    pub fn validation(&self) -> serde_json::Value {
        http_json(&self.url, "GET", "/carbonc-api/validation")
    }

    /// Asserts that no request broke AWS's service models, and prints how many were checked.
    pub fn assert_valid_requests(&self) {
        let v = self.validation();
        eprintln!(
            "requests validated against AWS's service models: {}",
            v["validated"]
        );
        assert_eq!(
            v["violations"],
            serde_json::json!([]),
            "requests AWS would refuse: {v:#}"
        );
    }

    /// The decoded input of every mutating request the emulator answered.
    pub fn requests(&self) -> serde_json::Value {
        http_json(&self.url, "GET", "/carbonc-api/requests")
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
        let venv = venv();
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.envs(&self.env)
            .arg(repo().join("tests/emulator").join(script))
            .arg(&self.url)
            .args(args);
        let out = output_within(&mut cmd, deadline());
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
    let out = output_within(&mut cmd, deadline());
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// How long one process of a test may run: `$CARBONC_TEST_DEADLINE` seconds, else 20 minutes
/// (the slowest apply here, the whole footprint on a busy machine, takes about 4).
pub fn deadline() -> std::time::Duration {
    let secs = std::env::var("CARBONC_TEST_DEADLINE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1200);
    std::time::Duration::from_secs(secs)
}

/// `cmd.output()`, but a process still running after `limit` is killed and the test fails with
/// the end of what it printed: a hang shows where it hung instead of stalling the whole run.
pub fn output_within(cmd: &mut Command, limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    match status {
        Some(status) => std::process::Output {
            status,
            stdout,
            stderr,
        },
        None => {
            let tail = |b: &[u8]| {
                let s = String::from_utf8_lossy(b).into_owned();
                let lines: Vec<&str> = s.lines().collect();
                lines[lines.len().saturating_sub(40)..].join("\n")
            };
            panic!(
                "{cmd:?} was still running after {limit:?} and was killed\n--- the end of its stdout:\n{}\n--- the end of its stderr:\n{}",
                tail(&stdout),
                tail(&stderr)
            )
        }
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
    pub url: String,
    pub env: BTreeMap<String, String>,
}

impl FaultProxy {
    pub fn start(emu: &Emulator, args: &[&str]) -> FaultProxy {
        use std::io::BufRead;
        let venv = venv();
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
        FaultProxy {
            child,
            url: line.trim().to_string(),
            env,
        }
    }

    /// One request to the proxy's own control endpoint (`/__proxy/...`); its JSON answer.
    fn control(&self, method: &str, path: &str) -> serde_json::Value {
        http_json(&self.url, method, path)
    }

    /// Waits until a request matched by a `--hold` rule is held (the apply has reached that
    /// point, however fast or slow the machine is), for at most `limit`.
    pub fn wait_held(&self, limit: std::time::Duration) {
        let start = std::time::Instant::now();
        while self.control("GET", "/__proxy/held")["held"]
            .as_u64()
            .unwrap_or(0)
            == 0
        {
            assert!(
                start.elapsed() < limit,
                "no request reached the hold point in {limit:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Lets every held request go on.
    pub fn release(&self) {
        self.control("POST", "/__proxy/release");
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

/// One plain HTTP/1.1 request without a body to `base` (`http://127.0.0.1:PORT`); its JSON answer.
fn http_json(base: &str, method: &str, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).expect("the server listens");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("{}");
    serde_json::from_str(body).unwrap_or_default()
}

/// Copies a directory tree (a chart beside a fixture).
#[allow(dead_code)]
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
