//! A `k8s.ClickHouseCluster`: the layout of its shards and replicas over the region's zones, the
//! server configuration (`remote_servers`, `macros`, `zookeeper`), each Keeper node's
//! configuration, the tables' `ON CLUSTER` DDL, and the values of the chart that installs it
//! (`stdlib/charts/clickhouse`, embedded as [`CHART`]).
//!
//! `carbonc render` writes the files and the provider installs the chart with them, both from the
//! cluster's carbon fields as JSON (`name`, `namespace`, `shards`, `replicas`, `zones`,
//! `keeper_zones`, `volume_gib`, `tables`), so what is rendered is what is installed, and what the
//! topology test starts on loopback is the same configuration with loopback addresses.
//!
//! The server configuration and DDL keep to what ClickHouse has accepted since 18.x (custom
//! partitioning keys, `ON CLUSTER`, `ReplicatedMergeTree` with `{shard}`/`{replica}` macros,
//! `Distributed`, the `<yandex>` root element), so both the Debian 18.16 servers of the topology
//! test and the chart's current image read them.

use serde_json::{Value as Json, json};

/// The chart's files, relative to its directory: the provider writes them to a private directory
/// and installs from there, so the chart always matches the carbonc that installs it.
pub const CHART: [(&str, &str); 11] = [
    (
        "Chart.yaml",
        include_str!("../../../stdlib/charts/clickhouse/Chart.yaml"),
    ),
    (
        "values.yaml",
        include_str!("../../../stdlib/charts/clickhouse/values.yaml"),
    ),
    (
        "values.schema.json",
        include_str!("../../../stdlib/charts/clickhouse/values.schema.json"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("../../../stdlib/charts/clickhouse/templates/_helpers.tpl"),
    ),
    (
        "templates/storageclass.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/storageclass.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/serviceaccount.yaml"),
    ),
    (
        "templates/configmap.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/configmap.yaml"),
    ),
    (
        "templates/keeper.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/keeper.yaml"),
    ),
    (
        "templates/servers.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/servers.yaml"),
    ),
    (
        "templates/schema-job.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/schema-job.yaml"),
    ),
    (
        "templates/backup-cronjob.yaml",
        include_str!("../../../stdlib/charts/clickhouse/templates/backup-cronjob.yaml"),
    ),
];

/// The chart's name and version (`Chart.yaml`): what the release installs, pinned.
pub const CHART_NAME: &str = "carbon-clickhouse";
pub const CHART_VERSION: &str = "1.0.0";

/// The service account of the servers and the backup job, which the module's Pod Identity
/// association gives the backup role.
pub const SERVICE_ACCOUNT: &str = "clickhouse-backup";

/// Native protocol port of a server, and the Keeper client and Raft ports.
pub const NATIVE_PORT: u16 = 9000;
pub const KEEPER_PORT: u16 = 2181;
pub const RAFT_PORT: u16 = 9234;

/// The ports a server's pods listen on (native, HTTP, interserver) and a Keeper node's (client,
/// Raft), as the chart declares them.
pub const SERVER_PORTS: [u16; 3] = [NATIVE_PORT, 8123, 9009];
pub const KEEPER_PORTS: [u16; 2] = [KEEPER_PORT, RAFT_PORT];

/// The labels the chart gives the pods of a `component` (`server` or `keeper`) of release
/// `release`, which network policies select them by.
pub fn pod_labels(release: &str, component: &str) -> [(&'static str, String); 3] {
    [
        ("app.kubernetes.io/name", "clickhouse".to_string()),
        ("app.kubernetes.io/instance", release.to_string()),
        ("app.kubernetes.io/component", component.to_string()),
    ]
}

/// The carbon fields of a `k8s.ClickHouseCluster` its layout is read from.
pub const LAYOUT_FIELDS: [&str; 8] = [
    "name",
    "namespace",
    "shards",
    "replicas",
    "zones",
    "keeper_zones",
    "volume_gib",
    "tables",
];

/// The layout of one ClickHouse cluster, read from its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub name: String,
    pub namespace: String,
    pub shards: usize,
    pub replicas: usize,
    pub zones: Vec<String>,
    pub keeper_zones: Vec<String>,
    pub volume_gib: u64,
    pub tables: Vec<Table>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub columns: Vec<(String, String)>,
    pub order_by: Vec<String>,
    pub partition_by: Option<String>,
    pub sharding_key: Option<String>,
}

/// Where the installation's volumes and backups go: known only once the key and bucket exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Install {
    /// The region's code, e.g. `eu-west-1`.
    pub region: String,
    /// ARN of the KMS key the volumes are encrypted with (the EBS CSI driver wants the ARN).
    pub volume_key_arn: String,
    /// Name of the backup bucket, when there is one.
    pub backup_bucket: Option<String>,
}

fn text(v: &Json, k: &str) -> Option<String> {
    v.get(k)?.as_str().map(str::to_string)
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn objects(v: Option<&Json>) -> &[Json] {
    v.and_then(Json::as_array).map_or(&[], Vec::as_slice)
}

impl Layout {
    /// The layout of a `k8s.ClickHouseCluster` from its fields, when they are known.
    pub fn from_fields(f: &Json) -> Option<Layout> {
        let int = |k: &str| f.get(k)?.as_u64();
        let tables = objects(f.get("tables"))
            .iter()
            .map(|t| Table {
                database: text(t, "database").unwrap_or_default(),
                name: text(t, "name").unwrap_or_default(),
                columns: objects(t.get("columns"))
                    .iter()
                    .map(|c| {
                        (
                            text(c, "name").unwrap_or_default(),
                            text(c, "type").unwrap_or_default(),
                        )
                    })
                    .collect(),
                order_by: strings(t.get("order_by")),
                partition_by: text(t, "partition_by"),
                sharding_key: text(t, "sharding_key"),
            })
            .collect();
        Some(Layout {
            name: text(f, "name")?,
            namespace: text(f, "namespace")?,
            shards: usize::try_from(int("shards")?).ok()?,
            replicas: usize::try_from(int("replicas")?).ok()?,
            zones: strings(f.get("zones")),
            keeper_zones: strings(f.get("keeper_zones")),
            volume_gib: int("volume_gib").unwrap_or(100),
            tables,
        })
    }

    /// The zone of replica `r` of shard `s` (both from 1): the replicas of a shard take
    /// successive zones, and each shard starts one zone further, so that one zone's loss takes
    /// at most one replica of a shard (when there are at least as many zones as replicas) and
    /// spreads the first replicas.
    pub fn zone(&self, s: usize, r: usize) -> Option<&str> {
        if self.zones.is_empty() {
            return None;
        }
        Some(&self.zones[(s - 1 + r - 1) % self.zones.len()])
    }

    /// The name of the server that is replica `r` of shard `s`: its StatefulSet and Service.
    pub fn server_name(&self, s: usize, r: usize) -> String {
        format!("{}-{s:02}-{r}", self.name)
    }

    /// The value of the `{replica}` macro of replica `r` of shard `s`.
    pub fn replica_id(&self, s: usize, r: usize) -> String {
        self.server_name(s, r)
    }

    /// The name of Keeper node `i` (from 1): its StatefulSet and Service.
    pub fn keeper_name(&self, i: usize) -> String {
        format!("{}-keeper-{i}", self.name)
    }

    /// The in-cluster DNS name of a server (the Service the chart gives each).
    pub fn server_host(&self, s: usize, r: usize) -> String {
        format!(
            "{}.{}.svc.cluster.local",
            self.server_name(s, r),
            self.namespace
        )
    }

    /// The in-cluster DNS name of Keeper node `i` (from 1).
    pub fn keeper_host(&self, i: usize) -> String {
        format!(
            "{}.{}.svc.cluster.local",
            self.keeper_name(i),
            self.namespace
        )
    }

    /// `remote_servers`: the cluster, its shards with `internal_replication` (the replicated
    /// tables copy data themselves), and each replica's address from `addr(shard, replica)`.
    pub fn remote_servers_xml(&self, addr: &dyn Fn(usize, usize) -> (String, u16)) -> String {
        let mut x = String::from("<yandex>\n  <remote_servers>\n");
        x.push_str(&format!("    <{}>\n", self.name));
        for s in 1..=self.shards {
            x.push_str(
                "      <shard>\n        <internal_replication>true</internal_replication>\n",
            );
            for r in 1..=self.replicas {
                let (host, port) = addr(s, r);
                x.push_str(&format!(
                    "        <replica>\n          <host>{host}</host>\n          <port>{port}</port>\n        </replica>\n"
                ));
            }
            x.push_str("      </shard>\n");
        }
        x.push_str(&format!(
            "    </{}>\n  </remote_servers>\n</yandex>\n",
            self.name
        ));
        x
    }

    /// The macros of one server: its cluster, shard and replica.
    pub fn macros_xml(&self, s: usize, r: usize) -> String {
        format!(
            "<yandex>\n  <macros>\n    <cluster>{}</cluster>\n    <shard>{s:02}</shard>\n    <replica>{}</replica>\n  </macros>\n</yandex>\n",
            self.name,
            self.replica_id(s, r)
        )
    }

    /// The Keeper ensemble the servers replicate through, from `addr(node)`.
    pub fn zookeeper_xml(&self, addr: &dyn Fn(usize) -> (String, u16)) -> String {
        let mut x = String::from("<yandex>\n  <zookeeper>\n");
        for i in 1..=self.keeper_zones.len() {
            let (host, port) = addr(i);
            x.push_str(&format!(
                "    <node index=\"{i}\">\n      <host>{host}</host>\n      <port>{port}</port>\n    </node>\n"
            ));
        }
        x.push_str("  </zookeeper>\n</yandex>\n");
        x
    }

    /// The configuration of Keeper node `i` (from 1) of the quorum: its client port, its Raft
    /// `server_id`, and every node of the quorum with its Raft address from `addr(node)`.
    pub fn keeper_xml(&self, i: usize, addr: &dyn Fn(usize) -> (String, u16)) -> String {
        let mut x = format!(
            "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n  <keeper_server>\n    <tcp_port>{KEEPER_PORT}</tcp_port>\n    <server_id>{i}</server_id>\n    <log_storage_path>/var/lib/clickhouse-keeper/coordination/log</log_storage_path>\n    <snapshot_storage_path>/var/lib/clickhouse-keeper/coordination/snapshots</snapshot_storage_path>\n    <coordination_settings>\n      <operation_timeout_ms>10000</operation_timeout_ms>\n      <session_timeout_ms>30000</session_timeout_ms>\n    </coordination_settings>\n    <raft_configuration>\n"
        );
        for n in 1..=self.keeper_zones.len() {
            let (host, port) = addr(n);
            x.push_str(&format!(
                "      <server>\n        <id>{n}</id>\n        <hostname>{host}</hostname>\n        <port>{port}</port>\n      </server>\n"
            ));
        }
        x.push_str("    </raft_configuration>\n  </keeper_server>\n</clickhouse>\n");
        x
    }

    /// The schema's statements, in order: each database, then per table its replicated local
    /// table on every server and the `Distributed` table over them, all `ON CLUSTER`.
    pub fn ddl(&self) -> Vec<String> {
        let c = &self.name;
        let mut out = Vec::new();
        let mut dbs: Vec<&str> = self.tables.iter().map(|t| t.database.as_str()).collect();
        dbs.dedup();
        for db in dbs {
            out.push(format!("CREATE DATABASE IF NOT EXISTS {db} ON CLUSTER {c}"));
        }
        for t in &self.tables {
            let (db, name) = (&t.database, &t.name);
            let columns: Vec<String> = t
                .columns
                .iter()
                .map(|(n, ty)| format!("{n} {ty}"))
                .collect();
            let partition = t
                .partition_by
                .as_ref()
                .map(|p| format!(" PARTITION BY {p}"))
                .unwrap_or_default();
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {db}.{name}_local ON CLUSTER {c} ({}) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{db}/{name}_local', '{{replica}}'){partition} ORDER BY ({})",
                columns.join(", "),
                t.order_by.join(", ")
            ));
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {db}.{name} ON CLUSTER {c} AS {db}.{name}_local ENGINE = Distributed({c}, {db}, {name}_local, {})",
                t.sharding_key.as_deref().unwrap_or("rand()")
            ));
        }
        out
    }

    /// The DDL as one script, a statement per line.
    pub fn schema_sql(&self) -> String {
        let mut sql = String::new();
        for stmt in self.ddl() {
            sql.push_str(&stmt);
            sql.push_str(";\n");
        }
        sql
    }

    fn remote_servers_in_cluster(&self) -> String {
        self.remote_servers_xml(&|s, r| (self.server_host(s, r), NATIVE_PORT))
    }

    fn zookeeper_in_cluster(&self) -> String {
        self.zookeeper_xml(&|i| (self.keeper_host(i), KEEPER_PORT))
    }

    fn keeper_in_cluster(&self, i: usize) -> String {
        self.keeper_xml(i, &|n| (self.keeper_host(n), RAFT_PORT))
    }

    /// The files of the installation, as `(name, contents)`: the shared `remote_servers.xml` and
    /// `zookeeper.xml` with the in-cluster names, one `macros-SS-R.xml` per server, one
    /// `keeper-I.xml` per Keeper node, and `schema.sql`.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "remote_servers.xml".to_string(),
                self.remote_servers_in_cluster(),
            ),
            ("zookeeper.xml".to_string(), self.zookeeper_in_cluster()),
        ];
        for s in 1..=self.shards {
            for r in 1..=self.replicas {
                out.push((format!("macros-{s:02}-{r}.xml"), self.macros_xml(s, r)));
            }
        }
        for i in 1..=self.keeper_zones.len() {
            out.push((format!("keeper-{i}.xml"), self.keeper_in_cluster(i)));
        }
        out.push(("schema.sql".to_string(), self.schema_sql()));
        out
    }

    /// The values of the chart (`stdlib/charts/clickhouse/values.schema.json`): the generated
    /// configuration, one entry per server and Keeper node with its zone, the encrypted gp3
    /// storage class and the backup target.
    pub fn values(&self, install: &Install) -> Json {
        let mut servers = Vec::new();
        for s in 1..=self.shards {
            for r in 1..=self.replicas {
                servers.push(json!({
                    "name": self.server_name(s, r),
                    "zone": self.zone(s, r).unwrap_or_default(),
                    "host": self.server_host(s, r),
                    "macros": self.macros_xml(s, r),
                }));
            }
        }
        let keepers: Vec<Json> = self
            .keeper_zones
            .iter()
            .enumerate()
            .map(|(i, zone)| {
                json!({
                    "name": self.keeper_name(i + 1),
                    "zone": zone,
                    "config": self.keeper_in_cluster(i + 1),
                })
            })
            .collect();
        let mut zones: Vec<&String> = self.zones.iter().chain(&self.keeper_zones).collect();
        zones.sort();
        zones.dedup();
        json!({
            "cluster": self.name,
            "config": {
                "remote_servers.xml": self.remote_servers_in_cluster(),
                "zookeeper.xml": self.zookeeper_in_cluster(),
            },
            "servers": servers,
            "keepers": keepers,
            "storage": {
                "className": format!("{}-{}-gp3", self.namespace, self.name),
                "size": format!("{}Gi", self.volume_gib),
                "kmsKeyId": install.volume_key_arn,
                "zones": zones,
            },
            "schema": self.schema_sql(),
            "backup": {
                "serviceAccount": SERVICE_ACCOUNT,
                "bucket": install.backup_bucket,
                "region": install.region,
                "databases": self.databases(),
            },
        })
    }

    fn databases(&self) -> Vec<&str> {
        let mut dbs: Vec<&str> = self.tables.iter().map(|t| t.database.as_str()).collect();
        dbs.sort();
        dbs.dedup();
        dbs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::from_fields(&json!({
            "name": "events", "namespace": "analytics", "shards": 2, "replicas": 2,
            "zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            "keeper_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            "volume_gib": 50,
            "tables": [{"database": "analytics", "name": "events",
                        "columns": [{"name": "ts", "type": "DateTime"}], "order_by": ["ts"]}],
        }))
        .expect("known")
    }

    #[test]
    fn replicas_of_a_shard_take_successive_zones() {
        let l = layout();
        assert_eq!(l.zone(1, 1), Some("eu-west-1a"));
        assert_eq!(l.zone(1, 2), Some("eu-west-1b"));
        assert_eq!(l.zone(2, 1), Some("eu-west-1b"));
        assert_eq!(l.zone(2, 2), Some("eu-west-1c"));
    }

    #[test]
    fn every_keeper_node_lists_the_whole_quorum_with_its_own_id() {
        let l = layout();
        let k2 = l.keeper_in_cluster(2);
        assert!(k2.contains("<server_id>2</server_id>"), "{k2}");
        for n in 1..=3 {
            assert!(
                k2.contains(&format!(
                    "<hostname>events-keeper-{n}.analytics.svc.cluster.local</hostname>"
                )),
                "{k2}"
            );
        }
    }

    #[test]
    fn values_name_a_server_per_replica_in_its_zone_and_the_key_by_arn() {
        let v = layout().values(&Install {
            region: "eu-west-1".into(),
            volume_key_arn: "arn:aws:kms:eu-west-1:123456789012:key/k".into(),
            backup_bucket: Some("b".into()),
        });
        let servers = v["servers"].as_array().expect("servers");
        assert_eq!(servers.len(), 4);
        assert_eq!(servers[3]["name"], "events-02-2");
        assert_eq!(servers[3]["zone"], "eu-west-1c");
        assert_eq!(v["storage"]["size"], "50Gi");
        assert_eq!(
            v["storage"]["kmsKeyId"],
            "arn:aws:kms:eu-west-1:123456789012:key/k"
        );
        assert_eq!(v["keepers"].as_array().map(Vec::len), Some(3));
    }
}
