//! The configuration and schema of a `k8s.ClickHouseCluster`: the layout of its shards and
//! replicas over the region's zones, the server configuration (`remote_servers`, `macros`,
//! `zookeeper`) and the tables' `ON CLUSTER` DDL. Pure: where servers are reached is a function
//! the caller gives (the in-cluster DNS names for `carbonc render`, loopback addresses in the
//! topology test).
//!
//! The DDL keeps to what ClickHouse has accepted since 18.x (custom partitioning keys, `ON
//! CLUSTER`, `ReplicatedMergeTree` with `{shard}`/`{replica}` macros, `Distributed`).

use crate::eval::Instance;
use crate::value::{Entries, Value, entries, items};

/// The layout of one ClickHouse cluster, read from its instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub name: String,
    pub namespace: String,
    pub shards: usize,
    pub replicas: usize,
    pub zones: Vec<String>,
    pub keeper_zones: Vec<String>,
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

fn text(e: &Entries, k: &str) -> Option<String> {
    e.get(k)?.reveal().as_str().map(str::to_string)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    items(v)
        .iter()
        .filter_map(|x| x.reveal().as_str().map(str::to_string))
        .collect()
}

impl Layout {
    /// The layout of a `k8s.ClickHouseCluster`, when its fields are known.
    pub fn of(inst: &Instance) -> Option<Layout> {
        let int = |f: &str| {
            inst.get(f)
                .and_then(Value::as_int)
                .and_then(|n| usize::try_from(n).ok())
        };
        let tables = items(inst.get("tables"))
            .iter()
            .filter_map(entries)
            .map(|t| Table {
                database: text(t, "database").unwrap_or_default(),
                name: text(t, "name").unwrap_or_default(),
                columns: items(t.get("columns"))
                    .iter()
                    .filter_map(entries)
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
            name: inst.get("name")?.as_str()?.to_string(),
            namespace: inst.get("namespace")?.as_str()?.to_string(),
            shards: int("shards")?,
            replicas: int("replicas")?,
            zones: strings(inst.get("zones")),
            keeper_zones: strings(inst.get("keeper_zones")),
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

    /// The value of the `{replica}` macro of replica `r` of shard `s`.
    pub fn replica_id(&self, s: usize, r: usize) -> String {
        format!("{}-{s:02}-{r}", self.name)
    }

    /// The in-cluster DNS name of a server (the Service the installation gives each).
    pub fn server_host(&self, s: usize, r: usize) -> String {
        format!(
            "{}-{s:02}-{r}.{}.svc.cluster.local",
            self.name, self.namespace
        )
    }

    /// The in-cluster DNS name of Keeper node `i` (from 1).
    pub fn keeper_host(&self, i: usize) -> String {
        format!(
            "{}-keeper-{i}.{}.svc.cluster.local",
            self.name, self.namespace
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
}

impl Layout {
    /// The files of the installation, as `(name, contents)`: the shared `remote_servers.xml` and
    /// `zookeeper.xml` with the in-cluster names (native port 9000, Keeper 2181), one
    /// `macros-SS-R.xml` per server, and `schema.sql`.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "remote_servers.xml".to_string(),
                self.remote_servers_xml(&|s, r| (self.server_host(s, r), 9000)),
            ),
            (
                "zookeeper.xml".to_string(),
                self.zookeeper_xml(&|i| (self.keeper_host(i), 2181)),
            ),
        ];
        for s in 1..=self.shards {
            for r in 1..=self.replicas {
                out.push((format!("macros-{s:02}-{r}.xml"), self.macros_xml(s, r)));
            }
        }
        let mut sql = String::new();
        for stmt in self.ddl() {
            sql.push_str(&stmt);
            sql.push_str(";\n");
        }
        out.push(("schema.sql".to_string(), sql));
        out
    }
}
