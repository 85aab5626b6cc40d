"""A test front for the real Helm v4 engine: the `helm` command lines carbonc runs, executed by
helm-python-sdk (Helm's Go SDK, v4.2.3, through its C ABI), NOT the helm CLI.

There is no helm binary on the test machines, only the engine in the emulator's venv. This front
gives carbonc's Helm phase (`$CARBONC_HELM`) the four command lines it runs, with the helm CLI's
semantics as pkg/cmd of helm/helm v4.2.3 defines them (upgrade.go, install.go, status.go,
uninstall.go, flags.go, version.go):

    helm upgrade --install NAME CHART --namespace NS --create-namespace [--repo URL]
         [--version VERSION] --values VALUES [--values ...] --atomic --wait --timeout 600s
         --kubeconfig KUBECONFIG --output json
    helm status NAME --namespace NS --kubeconfig KUBECONFIG --output json
    helm uninstall NAME --namespace NS --wait --timeout 600s --kubeconfig KUBECONFIG
    helm version --short

- `upgrade --install` installs when the release has no history or its last revision is
  uninstalled (`helm history --max 1`), and upgrades otherwise; without `--install` a missing
  release is an error.
- `--atomic` (deprecated in Helm 4 for `--rollback-on-failure`, same meaning) rolls a failed
  install or upgrade back, and makes the wait `watcher` when `--wait` is not given; `--wait`
  alone is the `watcher` strategy (kstatus), `--wait=legacy|hookOnly|watcher` as given, and no
  `--wait` is `hookOnly`, as in Helm 4.
- `--timeout` is a Go duration (`600s`, `10m`, `1m30s`, `500ms`); default 5m0s.
- `--history-max` is 10 unless given (the CLI's `HELM_MAX_HISTORY` default).
- `--values` files (YAML or JSON) are merged in order, maps deeply, later files winning.
- `--output json` prints the release as `helm ... -o json` does (Helm's `release.Release` JSON:
  `name`, `info` {first_deployed, last_deployed, deleted, description, status, notes},
  `chart` {metadata, values} for upgrade (status strips the chart, as Helm does), `config`
  (the user-supplied values), `manifest`, `version` (the revision), `namespace`); without it,
  the CLI's table text.
- Errors are `Error: MESSAGE` on stderr with exit status 1, with the CLI's prefixes
  (`INSTALLATION FAILED: `, `UPGRADE FAILED: `) and messages (`release: not found`).
- `version --short` prints the engine's Helm version followed by a note that this is the SDK
  front (`v4.2.3 (helm-python-sdk 0.2.2 test front, not the helm CLI)`).

Not supported (refused with an error saying so): other subcommands and flags; reinstalling over
a release uninstalled with `--keep-history` (the SDK has no `Replace` option);
`info.resources` in `status -o json` (the SDK does not return them).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import sys
from typing import Any, NoReturn

import helm_python as helm
import yaml


class Usage(Exception):
    pass


def fail(message: str) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


# ---- argument parsing, helm-style (cobra/pflag: --flag value, --flag=value, -n value) ------------

FLAGS_WITH_VALUE = {
    "--namespace": "namespace", "-n": "namespace",
    "--repo": "repo", "--version": "version",
    "--values": "values", "-f": "values",
    "--timeout": "timeout", "--kubeconfig": "kubeconfig",
    "--output": "output", "-o": "output",
    "--history-max": "history_max", "--description": "description",
    "--kube-context": "kube_context",
}
BOOL_FLAGS = {
    "--install": "install", "-i": "install", "--create-namespace": "create_namespace",
    "--atomic": "atomic", "--rollback-on-failure": "atomic", "--short": "short",
    "--keep-history": "keep_history", "--ignore-not-found": "ignore_not_found",
}


def parse(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    args: list[str] = []
    opts: dict[str, Any] = {"values": []}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            args += argv[i + 1:]
            break
        name, eq, val = a.partition("=") if a.startswith("--") else (a, "", "")
        if name == "--wait":
            opts["wait"] = val if eq else "watcher"
        elif name in FLAGS_WITH_VALUE:
            key = FLAGS_WITH_VALUE[name]
            if not eq:
                if i + 1 >= len(argv):
                    raise Usage(f"flag needs an argument: {name}")
                i += 1
                val = argv[i]
            if key == "values":
                opts["values"].append(val)
            else:
                opts[key] = val
        elif name in BOOL_FLAGS:
            opts[BOOL_FLAGS[name]] = (val.lower() in ("true", "1")) if eq else True
        elif a.startswith("-") and len(a) > 1:
            raise Usage(f"unknown flag: {name} (this helm-python-sdk front implements only the command lines carbonc runs)")
        else:
            args.append(a)
        i += 1
    return args, opts


def go_duration(text: str) -> float:
    """time.ParseDuration: `600s`, `10m`, `1h2m3.5s`, `300ms`."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    if text == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text.lstrip("+"):
        raise Usage(f'invalid argument "{text}" for "--timeout" flag: time: invalid duration "{text}"')
    return sum(float(n) * units[u] for n, u in parts)


def merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def load_values(files: list[str]) -> dict:
    values: dict = {}
    for path in files:
        try:
            with open(path) as f:
                doc = yaml.safe_load(f)
        except OSError as e:
            fail(f"open {path}: {e.strerror.lower() if e.strerror else e}")
        except yaml.YAMLError as e:
            fail(f"failed to parse {path}: error converting YAML to JSON: {e}")
        if doc is None:
            continue
        if not isinstance(doc, dict):
            fail(f"failed to parse {path}: error unmarshaling JSON: json: cannot unmarshal array into Go value of type map[string]interface {{}}")
        values = merge(values, doc)
    return values


# ---- the release as `helm -o json` prints it --------------------------------------------------------


def _rfc3339(ts: str | None) -> str | None:
    if not ts:
        return None
    try:
        return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return ts


def release_json(cfg: helm.Config, summary: dict, chart_path: str | None, with_chart: bool) -> dict:
    """Helm's release.Release JSON, from the SDK's summary, `get all` and `get metadata`."""
    name = summary["name"]
    revision = summary.get("revision")
    everything = cfg.get_all(name, revision=revision)
    info = dict(everything.get("info") or {})
    info.setdefault("status", summary.get("status"))
    out: dict[str, Any] = {"name": name, "info": info}
    if with_chart:
        metadata: dict[str, Any] | None = None
        values: dict | None = None
        if chart_path and os.path.isdir(chart_path):
            try:
                chart = helm.Chart.load(chart_path)
                metadata = chart.metadata
                values = chart.values
            except helm.HelmError:
                metadata = None
        if metadata is None:
            meta = cfg.get_metadata(name, revision=revision)
            metadata = {k: v for k, v in {
                "name": meta.get("chart") or summary.get("chart_name"),
                "version": meta.get("version") or summary.get("chart_version"),
                "appVersion": meta.get("appVersion") or summary.get("app_version"),
                "apiVersion": meta.get("apiVersion"),
                "annotations": meta.get("annotations"),
            }.items() if v}
        out["chart"] = {"metadata": metadata, **({"values": values} if values is not None else {})}
    config = everything.get("config")
    if config:
        out["config"] = config
    if summary.get("manifest"):
        out["manifest"] = summary["manifest"]
    hooks = everything.get("hooks")
    if hooks:
        out["hooks"] = hooks
    out["version"] = revision
    out["namespace"] = summary.get("namespace")
    return out


def print_table(rel: dict) -> None:
    info = rel.get("info") or {}
    print(f"NAME: {rel['name']}")
    if info.get("last_deployed"):
        print(f"LAST DEPLOYED: {info['last_deployed']}")
    print(f"NAMESPACE: {rel.get('namespace')}")
    print(f"STATUS: {info.get('status')}")
    print(f"REVISION: {rel.get('version')}")
    print(f"DESCRIPTION: {info.get('description', '')}")
    if info.get("notes"):
        print("NOTES:")
        print(info["notes"])


def emit(rel: dict, output: str) -> None:
    if output == "json":
        print(json.dumps(rel))
    elif output == "yaml":
        print(yaml.safe_dump(rel, sort_keys=False), end="")
    else:
        print_table(rel)


# ---- commands -----------------------------------------------------------------------------------


def config(opts: dict) -> helm.Config:
    return helm.Config(
        kubeconfig_path=opts.get("kubeconfig"),
        kube_context=opts.get("kube_context"),
        namespace=opts.get("namespace") or "default",
    )


def cmd_upgrade(args: list[str], opts: dict) -> None:
    if len(args) != 2:
        raise Usage(f'"helm upgrade" requires 2 arguments\n\nUsage:  helm upgrade [RELEASE] [CHART] [flags]')
    name, chart = args
    output = opts.get("output", "table")
    timeout = go_duration(opts.get("timeout", "5m0s"))
    atomic = bool(opts.get("atomic"))
    wait = opts.get("wait") or ("watcher" if atomic else "hookOnly")
    if wait not in ("watcher", "legacy", "hookOnly"):
        if wait in ("true", "false"):
            wait = "watcher" if wait == "true" else "hookOnly"
        else:
            fail(f'invalid argument "{wait}" for "--wait" flag: invalid wait input "{wait}". Valid inputs are watcher, hookOnly, and legacy')
    values = load_values(opts["values"])
    history_max = int(opts.get("history_max", os.environ.get("HELM_MAX_HISTORY", 10)))
    common = dict(
        namespace=opts.get("namespace") or "default",
        timeout=max(1, int(-(-timeout // 1))) if timeout else None,
        wait=wait,
        rollback_on_failure=atomic,
        chart_repo_url=opts.get("repo"),
        chart_version=opts.get("version"),
        description=opts.get("description"),
    )
    with config(opts) as cfg:
        install = False
        if opts.get("install"):
            try:
                last = cfg.history(name, max_revisions=1)
            except helm.HelmNotFoundError:
                last = []
            except helm.HelmError as e:
                fail(str(e))
            if not last:
                install = True
            elif last[-1].get("status") == "uninstalled":
                fail(f'cannot re-use a name that is still in use: release "{name}" was uninstalled with --keep-history and '
                     "this helm-python-sdk front cannot replace it (the SDK has no Replace option)")
        try:
            if install:
                if output == "table":
                    print(f'Release "{name}" does not exist. Installing it now.')
                summary = cfg.install(chart, name, values, create_namespace=bool(opts.get("create_namespace")), **common)
            else:
                summary = cfg.upgrade(chart, name, values, max_history=history_max, **common)
        except helm.HelmError as e:
            message = str(e)
            if not install and isinstance(e, helm.HelmNotFoundError) and "has no deployed releases" not in message:
                message = f'"{name}" has no deployed releases'
            fail(("INSTALLATION FAILED: " if install else "UPGRADE FAILED: ") + message)
        rel = release_json(cfg, summary, chart, with_chart=True)
    if output == "table" and not install:
        print(f'Release "{name}" has been upgraded. Happy Helming!')
    emit(rel, output)


def cmd_status(args: list[str], opts: dict) -> None:
    if len(args) != 1:
        raise Usage(f'"helm status" requires 1 argument\n\nUsage:  helm status RELEASE_NAME [flags]')
    with config(opts) as cfg:
        try:
            summary = cfg.status(args[0])
        except helm.HelmNotFoundError:
            fail("release: not found")
        except helm.HelmError as e:
            fail(str(e))
        rel = release_json(cfg, summary, None, with_chart=False)
    emit(rel, opts.get("output", "table"))


def cmd_uninstall(args: list[str], opts: dict) -> None:
    if not args:
        raise Usage('"helm uninstall" requires at least 1 argument\n\nUsage:  helm uninstall RELEASE_NAME [...] [flags]')
    timeout = go_duration(opts.get("timeout", "5m0s"))
    wait = opts.get("wait") or "hookOnly"
    with config(opts) as cfg:
        for name in args:
            try:
                result = cfg.uninstall(
                    name, keep_history=bool(opts.get("keep_history")), timeout=max(1, int(-(-timeout // 1))) if timeout else None,
                    wait=wait, ignore_not_found=bool(opts.get("ignore_not_found")),
                )
            except helm.HelmNotFoundError:
                fail(f"uninstall: Release not loaded: {name}: release: not found")
            except helm.HelmError as e:
                fail(str(e))
            if result.get("info"):
                print(result["info"])
            print(f'release "{name}" uninstalled')


def cmd_version(args: list[str], opts: dict) -> None:
    version = helm.helm_sdk_version()
    note = f"(helm-python-sdk {helm.__version__} test front, not the helm CLI)"
    if opts.get("short"):
        print(f"{version} {note}")
    else:
        print(f'version.BuildInfo{{Version:"{version}", Front:"helm-python-sdk {helm.__version__}", Note:"test front, not the helm CLI"}}')


def main(argv: list[str]) -> int:
    try:
        args, opts = parse(argv)
        if not args:
            raise Usage("this helm-python-sdk test front implements: upgrade --install, status, uninstall, version")
        command, rest = args[0], args[1:]
        handlers = {"upgrade": cmd_upgrade, "status": cmd_status, "uninstall": cmd_uninstall, "version": cmd_version}
        aliases = {"del": "uninstall", "delete": "uninstall", "un": "uninstall"}
        command = aliases.get(command, command)
        if command not in handlers:
            raise Usage(f'unknown command "{command}" for "helm" (this helm-python-sdk test front implements only upgrade, status, uninstall and version)')
        handlers[command](rest, opts)
    except Usage as e:
        fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
