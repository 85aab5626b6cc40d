//! The script carbonc writes for a Synthetics canary, run for real: against loopback HTTP servers
//! (one fast, one slow behind a delay, one failing, one not listening), with a header read from
//! a Secrets Manager secret of the emulator, its metrics published to the emulator's CloudWatch
//! and read back with boto3.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carbonc_state::Val;
use common::Emulator;

const REGION: &str = "eu-west-1";
const SECRET: &str = "s3cret-header-value";

/// A loopback HTTP server answering every request with `status` after `delay`; it keeps the
/// request headers it saw.
fn server(status: u16, delay: Duration) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/healthz", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                log.lock()
                    .expect("log")
                    .push(line.trim_end().to_lowercase());
                line.clear();
            }
            std::thread::sleep(delay);
            let body = "ok";
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

fn check(url: &str, latency_ms: i64) -> BTreeMap<String, Val> {
    let mut headers = BTreeMap::new();
    headers.insert("x-probe".to_string(), Val::Str("carbon".into()));
    BTreeMap::from([
        ("url".to_string(), Val::Str(url.into())),
        ("method".to_string(), Val::Str("GET".into())),
        ("expect_status".to_string(), Val::Int(200)),
        ("latency_ms".to_string(), Val::Int(latency_ms)),
        ("timeout_ms".to_string(), Val::Int(5000)),
        ("headers".to_string(), Val::Map(headers)),
    ])
}

/// Runs the canary `name`'s script, as packaged for Synthetics.
fn run(
    emu: &Emulator,
    dir: &std::path::Path,
    name: &str,
    check: &BTreeMap<String, Val>,
    secret_arn: &str,
) -> serde_json::Value {
    let secrets = BTreeMap::from([("x-api-key".to_string(), secret_arn.to_string())]);
    let script = carbonc_aws::canary_script(name, check, &secrets);
    assert!(
        !script.contains(SECRET),
        "a secret header's value is in the script"
    );
    let zip = dir.join(format!("{name}.zip"));
    std::fs::write(
        &zip,
        carbonc_aws::canary_zip(&[("python/carbon_check.py", script.as_bytes())]),
    )
    .expect("zip");
    emu.python(
        "run_canary.py",
        &[REGION, zip.to_str().expect("utf-8"), "carbon_check.handler"],
    )
}

/// The statistic of a metric of `Carbon/Canary` for one canary, as CloudWatch reports it.
fn stat(emu: &Emulator, canary: &str, metric: &str, statistic: &str) -> Option<f64> {
    let out = emu.call(
        REGION,
        "cloudwatch",
        "get_metric_statistics",
        serde_json::json!({
            "Namespace": "Carbon/Canary",
            "MetricName": metric,
            "Dimensions": [{"Name": "CanaryName", "Value": canary}],
            "StartTime": "2000-01-01T00:00:00Z",
            "EndTime": "2100-01-01T00:00:00Z",
            "Period": 86400,
            "Statistics": [statistic],
        }),
    );
    out["Datapoints"]
        .as_array()?
        .iter()
        .find_map(|d| d[statistic].as_f64())
}

#[test]
fn the_generated_canary_script_measures_reports_and_publishes() {
    let emu = Emulator::start();
    let dir = std::env::temp_dir().join(format!("carbonc-canary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let secret = emu.call(
        REGION,
        "secretsmanager",
        "create_secret",
        serde_json::json!({"Name": "canary-api-key", "SecretString": SECRET}),
    );
    let arn = secret["ARN"].as_str().expect("ARN").to_string();

    let (fast, fast_seen) = server(200, Duration::ZERO);
    let (slow, _) = server(200, Duration::from_millis(600));
    let (failing, _) = server(503, Duration::ZERO);
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/healthz", l.local_addr().expect("addr"))
    };

    let ok = run(&emu, &dir, "fast", &check(&fast, 5000), &arn);
    assert_eq!(ok["failed"], serde_json::Value::Null, "{ok}");
    assert_eq!(ok["result"]["status"], 200);
    assert_eq!(ok["result"]["ok"], true);
    let seen = fast_seen.lock().expect("seen").clone();
    assert!(seen.contains(&format!("x-api-key: {SECRET}")), "{seen:?}");
    assert!(seen.contains(&"x-probe: carbon".to_string()), "{seen:?}");

    let late = run(&emu, &dir, "slow", &check(&slow, 300), &arn);
    let why = late["failed"].as_str().expect("the slow run fails");
    assert!(why.contains("over 300 ms"), "{why}");
    assert!(!why.contains(SECRET));

    let bad = run(&emu, &dir, "failing", &check(&failing, 5000), &arn);
    let why = bad["failed"].as_str().expect("the failing run fails");
    assert!(why.contains("answered 503, expected 200"), "{why}");

    let none = run(&emu, &dir, "unreachable", &check(&closed, 5000), &arn);
    let why = none["failed"].as_str().expect("the unreachable run fails");
    assert!(why.contains("no answer from"), "{why}");

    // What each run published, as CloudWatch has it.
    assert_eq!(stat(&emu, "fast", "Success", "Sum"), Some(1.0));
    assert_eq!(stat(&emu, "fast", "Status", "Maximum"), Some(200.0));
    assert_eq!(stat(&emu, "slow", "Success", "Sum"), Some(0.0));
    let slow_latency = stat(&emu, "slow", "Latency", "Maximum").expect("latency of the slow run");
    assert!(
        slow_latency >= 600.0,
        "the slow server waits 600 ms: {slow_latency}"
    );
    assert_eq!(stat(&emu, "failing", "Status", "Maximum"), Some(503.0));
    assert_eq!(stat(&emu, "failing", "Success", "Sum"), Some(0.0));
    assert_eq!(stat(&emu, "unreachable", "Success", "Sum"), Some(0.0));
    assert_eq!(
        stat(&emu, "unreachable", "Status", "Maximum"),
        None,
        "no answer, no status"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
