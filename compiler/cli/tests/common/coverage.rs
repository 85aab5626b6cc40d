//! Field coverage: every field a program sets reaches AWS in some request.
//!
//! The emulator's request validator keeps the decoded input of every mutating request
//! (`/carbonc-api/requests`). For each resource of a state and each settable field of its schema
//! (`stdlib/aws/*.carbon`, the fields not marked `computed`), the value the state records must
//! appear in a request to the resource's service: each string, number, enum variant, list element
//! and map value, and for a reference the id or ARN of its target. Booleans and empty values
//! cannot be told apart from others by value and are counted separately; secrets are in state
//! only as keyed hashes. A field carbonc deliberately does not send is listed, with the reason,
//! in `tests/apply/field_coverage.txt`.

use std::collections::{BTreeMap, BTreeSet};

/// Settable fields per resource type, from the stdlib schemas.
pub fn settable_fields() -> BTreeMap<String, BTreeSet<String>> {
    schema_fields(false)
}

/// Computed fields per resource type (those marked `computed`), from the stdlib schemas.
pub fn computed_fields() -> BTreeMap<String, BTreeSet<String>> {
    schema_fields(true)
}

fn schema_fields(computed: bool) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let dir = super::repo().join("stdlib/aws");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("resource_type ") {
                current = rest.split_whitespace().next().map(str::to_string);
                continue;
            }
            if line.starts_with('}') {
                current = None;
                continue;
            }
            let Some(ty) = &current else { continue };
            let Some(field) = line.strip_prefix("    ") else {
                continue;
            };
            if field.starts_with('#') || field.starts_with(' ') {
                continue;
            }
            if let Some((name, rest)) = field.split_once(": ")
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                let is_computed =
                    rest.trim_end().ends_with("computed") || rest.contains(" computed ");
                if is_computed == computed {
                    out.entry(ty.clone()).or_default().insert(name.to_string());
                }
            }
        }
    }
    out
}

/// The fields listed as not sent, with their reasons: `type.field  reason`.
pub fn not_sent() -> BTreeMap<String, String> {
    listed("tests/apply/field_coverage.txt")
}

/// A listing of fields with reasons (`type.field  reason` lines, `#` comments), by its path in
/// the repository.
pub fn listed(path: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(super::repo().join(path)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (k, reason) = l.split_once(char::is_whitespace)?;
            Some((k.to_string(), reason.trim().to_string()))
        })
        .collect()
}

/// Every string and number of a request, and every member name (an enum variant such as WAF's
/// `Block` is sent as a member: `DefaultAction: {Block: {}}`).
fn leaves(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            out.push(s.clone());
            // A JSON document sent as a string (a dashboard body, a policy): its values too.
            if s.starts_with(['{', '['])
                && let Ok(doc) = serde_json::from_str::<serde_json::Value>(s)
            {
                leaves(&doc, out);
            }
            // A canary's code, a zip sent as base64 (`Code.ZipFile`): the values of the check
            // carbonc wrote into its script.
            if let Some(doc) = canary_check(s) {
                leaves(&doc, out);
            }
        }
        // A whole number sent as a double (CloudWatch's `Threshold`: 2000.0) is the field's 2000.
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                out.push(format!("{}", f as i64))
            }
            _ => out.push(n.to_string()),
        },
        serde_json::Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
        serde_json::Value::Object(m) => {
            out.extend(m.keys().cloned());
            m.values().for_each(|i| leaves(i, out));
        }
        _ => {}
    }
}

/// The check configuration in a canary script zipped by carbonc (stored, uncompressed: its text
/// is in the archive's bytes), from a base64 `Code.ZipFile`.
fn canary_check(s: &str) -> Option<serde_json::Value> {
    let bytes = base64(s)?;
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    let at = text.find("CHECK = json.loads(")? + "CHECK = json.loads(".len();
    let literal: String = serde_json::Deserializer::from_str(&text[at..])
        .into_iter::<String>()
        .next()?
        .ok()?;
    serde_json::from_str(&literal).ok()
}

/// Standard base64 (with padding), or None when `s` is not.
fn base64(s: &str) -> Option<Vec<u8>> {
    if s.len() < 8 || !s.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

/// The services whose requests may carry a type's fields: its own, and EC2 for an EKS node
/// group (its disk is in a launch template).
fn services(ty: &str) -> Vec<&str> {
    let own = ty.split('.').nth(1).unwrap_or("");
    if ty == "aws.eks.NodeGroup" {
        vec![own, "ec2"]
    } else {
        vec![own]
    }
}

/// The report of a coverage run.
#[derive(Debug, Default)]
pub struct Coverage {
    /// (type.field) set to a checkable value somewhere, and found in a request.
    pub covered: BTreeSet<String>,
    /// (type.field) -> the value not found.
    pub missing: BTreeMap<String, String>,
    /// (type.field) set only to booleans, empty values or secrets: not checkable by value.
    pub unchecked: BTreeSet<String>,
}

/// Checks every created resource of `state` against the recorded `requests`.
pub fn check(state: &serde_json::Value, requests: &serde_json::Value) -> Coverage {
    let fields = settable_fields();
    let mut sent: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in requests.as_array().unwrap() {
        let mut l = Vec::new();
        leaves(&r["input"], &mut l);
        sent.entry(r["service"].as_str().unwrap_or("").to_string())
            .or_default()
            .extend(l);
    }
    let resources = state["resources"].as_array().unwrap();
    let by_address: BTreeMap<&str, &serde_json::Value> = resources
        .iter()
        .map(|r| (r["address"].as_str().unwrap_or(""), r))
        .collect();
    let mut cov = Coverage::default();
    for r in resources {
        let ty = r["type"].as_str().unwrap_or("");
        // Lookups are read, never written.
        if r["status"] != "created"
            || ["aws.acm.Certificate", "aws.elbv2.LoadBalancer"].contains(&ty)
        {
            continue;
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for service in services(ty) {
            seen.extend(sent.get(service).cloned().unwrap_or_default());
        }
        let found = |want: &str| {
            seen.contains(want) || (want.len() >= 6 && seen.iter().any(|s| s.contains(want)))
        };
        for field in fields.get(ty).into_iter().flatten() {
            let Some(v) = r["attributes"].get(field) else {
                continue;
            };
            // What must be found, by field path (a record inside a list adds its member names:
            // `origins.region`): strings and numbers; a reference by its target's id or ARN.
            let mut by_path: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
            let mut stack = vec![(format!("{ty}.{field}"), v, false)];
            while let Some((path, v, in_list)) = stack.pop() {
                let wants = by_path.entry(path.clone()).or_default();
                match v {
                    serde_json::Value::Object(m) if m.len() == 1 && m.contains_key("$ref") => {
                        let target = by_address.get(m["$ref"].as_str().unwrap_or(""));
                        let mut ids = Vec::new();
                        if let Some(t) = target {
                            for k in ["id", "arn"] {
                                if let Some(s) = t.get(k).and_then(|x| x.as_str()) {
                                    ids.push(s.to_string());
                                }
                                if let Some(s) = t["attributes"].get(k).and_then(|x| x.as_str()) {
                                    ids.push(s.to_string());
                                }
                            }
                        }
                        if !ids.is_empty() {
                            wants.push(ids);
                        }
                    }
                    serde_json::Value::Object(m) if m.contains_key("$sensitive") => {}
                    serde_json::Value::Object(m) if in_list => {
                        stack.extend(m.iter().map(|(k, v)| (format!("{path}.{k}"), v, false)))
                    }
                    serde_json::Value::Object(m) => {
                        stack.extend(m.values().map(|v| (path.clone(), v, false)))
                    }
                    serde_json::Value::Array(items) => {
                        stack.extend(items.iter().map(|v| (path.clone(), v, true)))
                    }
                    serde_json::Value::String(s) if !s.is_empty() => wants.push(vec![s.clone()]),
                    serde_json::Value::Number(n) => wants.push(vec![n.to_string()]),
                    _ => {}
                }
            }
            for (key, wants) in by_path {
                if wants.is_empty() {
                    if !cov.covered.contains(&key) && !cov.missing.contains_key(&key) {
                        cov.unchecked.insert(key);
                    }
                    continue;
                }
                cov.unchecked.remove(&key);
                match wants.iter().find(|alts| !alts.iter().any(|w| found(w))) {
                    Some(alts) => {
                        cov.covered.remove(&key);
                        cov.missing.insert(
                            key,
                            format!("{} ({})", alts[0], r["address"].as_str().unwrap_or("")),
                        );
                    }
                    None if !cov.missing.contains_key(&key) => {
                        cov.covered.insert(key);
                    }
                    None => {}
                }
            }
        }
    }
    cov
}
