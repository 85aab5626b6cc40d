"""Checks carbonc's generated ClickHouse configuration and schema in a current ClickHouse engine:
chdb (PyPI, pinned in tests/emulator/requirements.txt) runs ClickHouse in process. The topology test
(compiler/cli/tests/clickhouse.rs) replicates with Debian's ClickHouse 18.16; this checks that the
same files mean the same to today's ClickHouse.

    chdb_check.py DIR SERVER

DIR holds the files `Layout::files` generates (remote_servers.xml, zookeeper.xml,
macros-SS-R.xml, schema.sql); SERVER is a server's `SS-R`. The server's configuration is laid out
as the chart mounts it (config.d/ beside the main file, which ClickHouse merges), then:

1. the cluster in `system.clusters` and the macros in `system.macros` are what the files say;
2. every statement of schema.sql parses (`formatQuery`);
3. the statements run: `ON CLUSTER` is dropped and the local table's `ReplicatedMergeTree(...)`
   becomes `MergeTree` (there is no Keeper in process: the only substitutions), the
   `Distributed` table is created over the configured cluster, and random rows inserted into
   each local table are counted back.

Prints one JSON object; exits 1 when ClickHouse refused something (the message is in it).
"""

import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import chdb


def main() -> int:
    src, server = Path(sys.argv[1]), sys.argv[2]
    out: dict = {"version": None, "clusters": [], "macros": {}, "statements": 0, "rows": {}}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp)
        (conf / "config.d").mkdir()
        (conf / "config.xml").write_text("<yandex>\n</yandex>\n")
        for name in ("remote_servers.xml", "zookeeper.xml"):
            shutil.copy(src / name, conf / "config.d" / name)
        shutil.copy(src / f"macros-{server}.xml", conf / "config.d" / "macros.xml")
        try:
            conn = chdb.connect(f":memory:?config-file={conf / 'config.xml'}")
            cur = conn.cursor()

            def rows(q: str) -> list:
                cur.execute(q)
                return list(cur.fetchall())

            out["version"] = rows("SELECT version()")[0][0]
            out["clusters"] = [list(r) for r in rows("SELECT cluster, shard_num, replica_num, host_name, port FROM system.clusters ORDER BY cluster, shard_num, replica_num")]
            out["macros"] = dict(rows("SELECT macro, substitution FROM system.macros"))
            statements = [s.strip() for s in (src / "schema.sql").read_text().split(";\n") if s.strip()]
            for stmt in statements:
                # The statement is a parameter: its {shard} and {replica} are macros, not query
                # parameters.
                conn.query("SELECT formatQuery({q:String})", "TSVRaw", params={"q": stmt})
            out["statements"] = len(statements)
            for stmt in statements:
                local = re.sub(r" ON CLUSTER \S+", "", stmt)
                local = re.sub(r"ENGINE = ReplicatedMergeTree\('[^']*', '[^']*'\)", "ENGINE = MergeTree", local)
                rows(local)
                m = re.match(r"CREATE TABLE IF NOT EXISTS (\S+_local) ", local)
                if m:
                    table = m.group(1)
                    structure = ", ".join(f"{n} {t}" for n, t, *_ in rows(f"DESCRIBE TABLE {table}"))
                    rows(f"INSERT INTO {table} SELECT * FROM generateRandom('{structure}') LIMIT 100")
                    out["rows"][table] = rows(f"SELECT count() FROM {table}")[0][0]
            conn.close()
        except Exception as e:  # ClickHouse's refusal, reported to the test
            out["error"] = str(e)
            print(json.dumps(out))
            return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
