//! A small LSP client over a child process's stdio, for the end-to-end tests, the robustness fuzz
//! test and the latency benchmark. It frames JSON-RPC with `Content-Length` like any editor.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for responses, oldest first.
    pub notifications: Vec<Value>,
    pub timeout: Duration,
}

/// A file URI for an absolute path.
pub fn uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for c in path.to_string_lossy().chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '/' | '-' | '_' | '.' | '~' => s.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    s
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0u8; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts the server at `bin` and initialises it with `root` as the workspace folder.
    pub fn start(bin: &Path, root: &Path) -> std::io::Result<Client> {
        Client::start_with(bin, root, &[])
    }

    pub fn start_with(bin: &Path, root: &Path, env: &[(&str, &str)]) -> std::io::Result<Client> {
        let mut cmd = Command::new(bin);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 1,
            notifications: Vec::new(),
            timeout: Duration::from_secs(60),
        };
        let root_uri = uri(root);
        c.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{ "uri": root_uri, "name": "workspace" }],
                "capabilities": {
                    "textDocument": {
                        "hover": { "contentFormat": ["markdown"] },
                        "rename": { "prepareSupport": true },
                        "publishDiagnostics": { "relatedInformation": true }
                    }
                }
            }),
        )
        .map_err(|e| std::io::Error::other(e.to_string()))?;
        c.notify("initialized", json!({}));
        Ok(c)
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        let _ = write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = self.stdin.flush();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response: the result, or the error object.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + self.timeout;
        loop {
            let msg = self.recv(deadline).map_err(|e| json!({ "message": e }))?;
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return match msg.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            self.stash(msg);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => Ok(v),
            Err(RecvTimeoutError::Timeout) => Err("the server did not answer in time".into()),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "the server exited ({})",
                self.child
                    .try_wait()
                    .ok()
                    .flatten()
                    .map_or("still running".into(), |s| s.to_string())
            )),
        }
    }

    /// Requests from the server (configuration, progress) are answered with null.
    fn stash(&mut self, msg: Value) {
        if msg.get("id").is_some() && msg.get("method").is_some() {
            let id = msg["id"].clone();
            self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));
            return;
        }
        self.notifications.push(msg);
    }

    /// Waits for the next `publishDiagnostics` for `uri` (ignoring those received before this
    /// call was made) and returns its diagnostics.
    pub fn next_diagnostics(&mut self, uri: &str) -> Result<Vec<Value>, String> {
        self.notifications.retain(|n| !is_diagnostics_for(n, uri));
        self.wait_diagnostics(uri)
    }

    /// The first `publishDiagnostics` for `uri` among the stashed notifications, or the next one.
    pub fn wait_diagnostics(&mut self, uri: &str) -> Result<Vec<Value>, String> {
        self.take_diagnostics(uri, |_| true)
    }

    /// Waits for the complete diagnostics of version `version` of `uri` (the server first
    /// publishes a quick, unversioned set after an edit, then the complete one with the version);
    /// the publishes for `uri` before it are dropped.
    pub fn settled_diagnostics(&mut self, uri: &str, version: i64) -> Result<Vec<Value>, String> {
        let d = self.take_diagnostics(uri, |n| n["params"]["version"].as_i64() == Some(version))?;
        self.notifications.retain(|n| !is_diagnostics_for(n, uri));
        Ok(d)
    }

    /// The diagnostics of the first publish for `uri` that `which` accepts, stashed or next.
    fn take_diagnostics(
        &mut self,
        uri: &str,
        which: impl Fn(&Value) -> bool,
    ) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| is_diagnostics_for(n, uri) && which(n))
            {
                let n = self.notifications.remove(i);
                return Ok(n["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default());
            }
            let msg = self.recv(deadline)?;
            self.stash(msg);
        }
    }

    /// Waits for diagnostics of `uri` that satisfy `ok` (earlier publishes, such as one after the
    /// workspace was loaded, are skipped); gives the last ones seen if none do in time.
    pub fn diagnostics_until(
        &mut self,
        uri: &str,
        ok: impl Fn(&[Value]) -> bool,
    ) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + self.timeout;
        let mut last = Vec::new();
        while Instant::now() < deadline {
            let saved = self.timeout;
            self.timeout = deadline.saturating_duration_since(Instant::now());
            let got = self.wait_diagnostics(uri);
            self.timeout = saved;
            match got {
                Ok(d) if ok(&d) => return Ok(d),
                Ok(d) => last = d,
                Err(_) => break,
            }
        }
        Err(format!(
            "no diagnostics as expected in time; the last: {last:?}"
        ))
    }

    /// Reads what the server sends until it is quiet for `quiet`, and forgets the diagnostics
    /// published so far: what comes next answers what is sent next.
    pub fn quiesce(&mut self, quiet: Duration) {
        while let Ok(msg) = self.rx.recv_timeout(quiet) {
            self.stash(msg);
        }
        self.notifications
            .retain(|n| n["method"] != "textDocument/publishDiagnostics");
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "carbon", "version": 1, "text": text } }),
        );
    }

    pub fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// Whether the server process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `shutdown` then `exit`; waits for the process and returns whether it exited cleanly.
    pub fn shutdown(mut self) -> bool {
        let ok = self.request("shutdown", Value::Null).is_ok();
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return ok && status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        false
    }
}

fn is_diagnostics_for(n: &Value, uri: &str) -> bool {
    n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
