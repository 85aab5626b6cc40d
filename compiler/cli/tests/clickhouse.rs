//! The ClickHouse topology test: the us-east-1 cluster of `tests/clickhouse/analytics.carbon` (1
//! shard x 2 replicas), started on loopback as two real ClickHouse servers (Debian's
//! `clickhouse-server`) replicating through a real ZooKeeper (Debian's `zookeeper`), both installed
//! by `scripts/test`. The servers get carbonc's generated `remote_servers`, `zookeeper` and
//! `macros` (with loopback addresses in place of the in-cluster names: the only substitution),
//! the generated DDL is applied `ON CLUSTER` on the first replica, a row inserted there is read
//! on the second, and through the `Distributed` table.
//!
//! Debian's ClickHouse is 18.16 (2018): the generated DDL keeps to what it accepts. The same files
//! are checked in a current ClickHouse (chdb, in process), and carbonc's chart that installs them
//! is rendered by the real Helm engine and validated strictly.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::repo;

const SERVER: &str = "/usr/sbin/clickhouse-server";
const CLIENT: &str = "/usr/bin/clickhouse-client";
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

/// A process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < timeout,
            "{what} not ready after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `clickhouse-client --port PORT --query Q`: Ok(stdout) or Err(stderr).
fn query(port: u16, q: &str) -> Result<String, String> {
    let out = Command::new(CLIENT)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--query",
            q,
        ])
        .output()
        .expect("clickhouse-client runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn start_zookeeper(dir: &Path, port: u16) -> Running {
    std::fs::create_dir_all(dir.join("data")).expect("zk dir");
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr\n",
            dir.join("data").display()
        ),
    )
    .expect("zoo.cfg");
    let child = Command::new("java")
        .args([
            "-cp",
            ZOOKEEPER_JAR,
            "org.apache.zookeeper.server.ZooKeeperServerMain",
        ])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("java runs ZooKeeper");
    let zk = Running(child);
    // Serving, not only running: `srvr` answers "not currently serving requests" until it is.
    wait_until("ZooKeeper", Duration::from_secs(60), || {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let mut answer = String::new();
        s.write_all(b"srvr").is_ok()
            && s.read_to_string(&mut answer).is_ok()
            && answer.contains("Mode: standalone")
    });
    zk
}

/// One server: its own directory, the base configuration (loopback ports, paths), and the
/// generated files in `config.d/`.
fn start_server(
    dir: &Path,
    tcp: u16,
    http: u16,
    interserver: u16,
    generated: &[(&str, String)],
) -> Running {
    let d = dir.display();
    std::fs::create_dir_all(dir.join("config.d")).expect("config.d");
    std::fs::write(
        dir.join("config.xml"),
        format!(
            "<yandex>
  <logger><level>information</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <interserver_http_port>{interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
"
        ),
    )
    .expect("config.xml");
    std::fs::copy("/etc/clickhouse-server/users.xml", dir.join("users.xml")).expect("users.xml");
    for (name, text) in generated {
        std::fs::write(dir.join("config.d").join(name), text).expect("generated file");
    }
    let child = Command::new(SERVER)
        .arg(format!("--config-file={d}/config.xml"))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("clickhouse-server runs");
    let server = Running(child);
    // Up, with its ZooKeeper session (ClickHouse 18.16 crashes on distributed DDL without one).
    wait_until(
        "ClickHouse and its ZooKeeper session",
        Duration::from_secs(60),
        || query(tcp, "SELECT count() FROM system.zookeeper WHERE path = '/'").is_ok(),
    );

    server
}

fn layout() -> carbonc_sema::clickhouse::Layout {
    std::env::set_current_dir(repo()).expect("repo");
    let mut db = carbonc_sema::RootDatabase::default();
    let root = carbonc_cli::load::load_program(&mut db, "tests/clickhouse/analytics.carbon")
        .expect("loads");
    let diags = carbonc_sema::check_program(&db, root);
    assert!(diags.is_empty(), "{diags:#?}");
    let p = carbonc_sema::evaluate_program(&db, root);
    let ch = p
        .instance("analytics[us-east-1]")
        .expect("the us-east-1 cluster");
    carbonc_sema::clickhouse::layout(ch).expect("known layout")
}

#[test]
fn generated_topology_replicates_on_loopback() {
    for bin in [SERVER, CLIENT, ZOOKEEPER_JAR] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: scripts/test installs Debian's clickhouse-server, clickhouse-client and zookeeper"
        );
    }
    let layout = layout();
    assert_eq!(
        (layout.shards, layout.replicas, layout.keeper_zones.len()),
        (1, 2, 3)
    );
    let scratch: PathBuf =
        std::env::temp_dir().join(format!("carbonc-clickhouse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);

    let zk_port = free_port();
    let _zk = start_zookeeper(&scratch.join("zookeeper"), zk_port);
    let ports: Vec<(u16, u16, u16)> = (0..layout.replicas)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let addr = |_s: usize, r: usize| ("127.0.0.1".to_string(), ports[r - 1].0);
    let remote_servers = layout.remote_servers_xml(&addr);
    // Every Keeper node of the quorum is the one ZooKeeper here.
    let keeper = layout.zookeeper_xml(&|_| ("127.0.0.1".to_string(), zk_port));
    let mut servers = Vec::new();
    for r in 1..=layout.replicas {
        let (tcp, http, inter) = ports[r - 1];
        servers.push(start_server(
            &scratch.join(format!("replica-{r}")),
            tcp,
            http,
            inter,
            &[
                ("remote_servers.xml", remote_servers.clone()),
                ("zookeeper.xml", keeper.clone()),
                ("macros.xml", layout.macros_xml(1, r)),
            ],
        ));
    }
    let (first, second) = (ports[0].0, ports[1].0);

    // The cluster as the servers see it: both replicas of shard 1.
    let clusters = query(first, "SELECT shard_num, replica_num, port FROM system.clusters WHERE cluster = 'events' ORDER BY replica_num").expect("system.clusters");
    assert_eq!(clusters, format!("1\t1\t{first}\n1\t2\t{second}"));
    assert_eq!(
        query(
            second,
            "SELECT substitution FROM system.macros WHERE macro = 'replica'"
        )
        .unwrap(),
        "events-01-2"
    );

    for stmt in layout.ddl() {
        query(first, &stmt).unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    // ON CLUSTER made the tables on the second replica too.
    wait_until(
        "the DDL on the second replica",
        Duration::from_secs(30),
        || query(second, "EXISTS TABLE analytics.events").is_ok_and(|o| o == "1"),
    );
    query(
        first,
        "INSERT INTO analytics.events_local VALUES ('2026-12-07', '2026-12-07 10:00:00', 42, 'signup'), ('2026-12-07', '2026-12-07 10:01:00', 7, 'login')",
    )
    .expect("insert");
    wait_until(
        "replication to the second replica",
        Duration::from_secs(30),
        || query(second, "SELECT count() FROM analytics.events_local").is_ok_and(|o| o == "2"),
    );
    assert_eq!(
        query(
            second,
            "SELECT kind FROM analytics.events_local WHERE user_id = 42"
        )
        .unwrap(),
        "signup"
    );
    assert_eq!(
        query(second, "SELECT count() FROM analytics.events").unwrap(),
        "2"
    );
    assert_eq!(
        query(first, "SELECT total_replicas, active_replicas FROM system.replicas WHERE table = 'events_local'").unwrap(),
        "2\t2"
    );
    // A cluster the configuration does not name is refused by the servers.
    let err = query(first, "CREATE DATABASE other ON CLUSTER nowhere").unwrap_err();
    assert!(err.contains("nowhere"), "{err}");
    drop(servers);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The project's venv Python, where `scripts/emulator install` puts chdb.
fn venv_python() -> PathBuf {
    common::venv().join("bin/python")
}

/// The generated files, exactly as `carbonc render` writes them and the chart mounts them, mean
/// the same to a current ClickHouse (chdb, in process): the cluster and macros the servers read,
/// and a schema that parses and runs (`tests/clickhouse/chdb_check.py`).
#[test]
fn generated_config_and_schema_hold_in_current_clickhouse() {
    let layout = layout();
    let dir = std::env::temp_dir().join(format!("carbonc-chdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    for (name, text) in layout.files() {
        std::fs::write(dir.join(name), text).expect("write");
    }
    let check = |server: &str| -> serde_json::Value {
        let out = Command::new(venv_python())
            .arg(repo().join("tests/clickhouse/chdb_check.py"))
            .args([dir.to_str().expect("path"), server])
            .output()
            .expect("the venv's python runs (scripts/emulator install)");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "chdb_check.py printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    for r in 1..=layout.replicas {
        let v = check(&format!("01-{r}"));
        assert!(v["error"].is_null(), "{v}");
        assert_eq!(
            v["clusters"],
            serde_json::json!(
                (1..=layout.replicas)
                    .map(|n| serde_json::json!(["events", 1, n, layout.server_host(1, n), 9000]))
                    .collect::<Vec<_>>()
            ),
            "{v}"
        );
        assert_eq!(
            v["macros"],
            serde_json::json!({ "cluster": "events", "shard": "01", "replica": layout.replica_id(1, r) }),
            "{v}"
        );
        assert_eq!(v["statements"], layout.ddl().len(), "{v}");
        assert_eq!(v["rows"]["analytics.events_local"], 100, "{v}");
    }
    // A column type ClickHouse does not know is refused, with its message.
    let schema = dir.join("schema.sql");
    let text = std::fs::read_to_string(&schema).expect("schema");
    std::fs::write(&schema, text.replace("user_id UInt64", "user_id UInt65")).expect("write");
    let v = check("01-1");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("UInt65") && e.contains("UNKNOWN_TYPE")),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// carbonc's ClickHouse chart, rendered by the real Helm engine (`tests/helm/render_release.py`)
/// with the values the provider installs it with, gives manifests that validate strictly against
/// Kubernetes 1.35; each pod carries the labels `simulate --reach` assumes and is pinned to the
/// zone of the layout; a layout the chart's values.schema.json refuses is refused by Helm.
#[test]
fn the_chart_renders_through_helm_and_validates_strictly() {
    use carbonc_k8s::clickhouse::{Install, pod_labels};
    let layout = layout();
    let dir = std::env::temp_dir().join(format!("carbonc-chart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let venv = venv_python();
    let render = |values: &serde_json::Value| {
        std::fs::write(dir.join("values.json"), values.to_string()).expect("values");
        let release = serde_json::json!({
            "name": layout.name, "namespace": layout.namespace,
            "chart": repo().join("stdlib/charts/clickhouse"), "values_file": "values.json",
        });
        std::fs::write(dir.join("release.json"), release.to_string()).expect("release");
        Command::new(&venv)
            .arg(repo().join("tests/helm/render_release.py"))
            .args([dir.join("release.json"), dir.join("out.yaml")])
            .output()
            .expect("the venv's python runs")
    };
    let values = layout.values(&Install {
        region: "us-east-1".into(),
        volume_key_arn:
            "arn:aws:kms:us-east-1:123456789012:key/0f6c1f6e-8d62-4b9c-9a3e-6f0c1c2d3e4f".into(),
        backup_bucket: Some("carbon-clickhouse-backups-us-east-1".into()),
    });
    let run = render(&values);
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let validated = Command::new(venv.with_file_name("kubernetes-validate"))
        .args(["--strict", "-k", "1.35"])
        .arg(dir.join("out.yaml"))
        .output()
        .expect("kubernetes-validate runs");
    let report = String::from_utf8_lossy(&validated.stdout).into_owned()
        + &String::from_utf8_lossy(&validated.stderr);
    assert!(validated.status.success(), "{report}");
    // StorageClass, ServiceAccount, ConfigMap, 5 x (StatefulSet, Service), schema Job, CronJob.
    assert_eq!(report.matches(" passed ").count(), 15, "{report}");
    let text = std::fs::read_to_string(dir.join("out.yaml")).expect("rendered");
    let docs: Vec<serde_json::Value> = text
        .split("---\n")
        .filter_map(|d| serde_yaml::from_str::<serde_json::Value>(d).ok())
        .filter(|d| d.is_object())
        .collect();
    let mut sets = 0;
    for d in docs.iter().filter(|d| d["kind"] == "StatefulSet") {
        let name = d["metadata"]["name"].as_str().expect("name");
        let component = if name.contains("-keeper-") {
            "keeper"
        } else {
            "server"
        };
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        for (k, v) in pod_labels(&layout.name, component) {
            assert_eq!(
                labels[k], v,
                "{name} lacks the label {k} that reachability assumes"
            );
        }
        let zone = &d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0];
        let want = values["servers"]
            .as_array()
            .into_iter()
            .chain(values["keepers"].as_array())
            .flatten()
            .find(|s| s["name"] == name)
            .map(|s| s["zone"].clone())
            .expect("a server or Keeper node of the layout");
        assert_eq!(zone, &want, "{name}");
        sets += 1;
    }
    assert_eq!(sets, 5);
    let class = docs
        .iter()
        .find(|d| d["kind"] == "StorageClass")
        .expect("a StorageClass");
    assert_eq!(
        class["parameters"]["kmsKeyId"], values["storage"]["kmsKeyId"],
        "{class}"
    );

    // Two Keeper nodes: refused by the chart's schema, as Helm refuses the install.
    let mut two = values.clone();
    two["keepers"].as_array_mut().expect("keepers").truncate(2);
    let run = render(&two);
    let said = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("keepers"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
