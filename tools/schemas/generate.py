"""Generates carbon resource schemas from CloudFormation's resource provider schemas.

The schemas are the ones the pinned `cfn-lint` ships (`cfnlint/data/schemas/providers/<region>.json`
maps each type name to a schema file of `cfnlint/data/schemas/resources/`). For every type it writes
a `resource_type` into `OUT/aws/<service>.carbon`, and into `OUT/index.json` what carbonc needs to
apply the type through the Cloud Control API and what the carbon text cannot say: the type's
CloudFormation name, the CloudFormation name of every field, which fields are JSON documents or
numbers written as strings, the primary identifier, the operations (handlers), the tag property
and the regions where the type exists.

The mapping (issue 17):
- `AWS::S3::Bucket` -> `aws.s3.Bucket`; `BucketName` -> `bucket_name`;
- `string` -> `String`, `integer` -> `Int`, `boolean` -> `Bool`, `array` -> `List<T>`, an object
  with `properties` (or a `$ref` to a definition) -> a record, an object of string values ->
  `Map<String, String>`, anything else (free-form objects, unions) -> `String` holding the JSON
  document (`json({...})`); `number` -> `String` holding the number (carbon has no floats yet);
  string `enum`s -> enums;
- `required` -> a field without `?`; `readOnlyProperties` -> `computed`; `createOnlyProperties` ->
  `forces_new`; descriptions -> `##` doc comments;
- no `create` handler -> `lookup` (the primary identifier is then what a program sets);
- a taggable type's tag property -> `tags: Map<String, String>`.

Types that a hand-written schema in `stdlib/aws/` declares are skipped: the hand-written one wins.

Usage: python generate.py CFNLINT_SCHEMAS_DIR STDLIB_AWS_DIR OUT_DIR
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

KEYWORDS = {
    "import", "as", "param", "let", "resource", "use", "output", "module", "for", "in", "if",
    "else", "fn", "enum", "record", "resource_type", "true", "false", "none",
    # Meta-fields of a resource block.
    "lifecycle", "depends_on", "metrics",
}

# Services whose resources are account-wide: declared without `@ region` (their API is served from
# one region). Everything else is regional.
GLOBAL_SERVICES = {"IAM", "Route53", "CloudFront", "Organizations", "GlobalAccelerator", "Shield"}

WIDTH = 100

# The namespace of a service whose hand-written schemas already name it differently.
NAMESPACES = {"CertificateManager": "acm", "ElasticLoadBalancingV2": "elbv2"}

# CloudFormation types covered by a hand-written schema of another name (the same name is found by
# itself): the hand-written one is the only carbon name of the type.
COVERED = {
    "AWS::CloudWatch::Alarm": "aws.cloudwatch.MetricAlarm",
    "AWS::EC2::VPC": "aws.ec2.Vpc",
    "AWS::EC2::EIP": "aws.ec2.Eip",
    "AWS::EKS::Nodegroup": "aws.eks.NodeGroup",
    "AWS::RDS::DBCluster": "aws.rds.Cluster",
    "AWS::RDS::DBInstance": "aws.rds.ClusterInstance",
    "AWS::RDS::DBSubnetGroup": "aws.rds.SubnetGroup",
    "AWS::Route53::HostedZone": "aws.route53.Zone",
    "AWS::Route53::RecordSet": "aws.route53.Record",
    "AWS::SecretsManager::RotationSchedule": "aws.secretsmanager.Rotation",
    "AWS::WAFv2::IPSet": "aws.wafv2.IpSet",
    "AWS::WAFv2::WebACL": "aws.wafv2.WebAcl",
    "AWS::WAFv2::WebACLAssociation": "aws.wafv2.WebAclAssociation",
}


def snake(name: str) -> str:
    """`BucketName` -> `bucket_name`, `SSEAlgorithm` -> `sse_algorithm`, `KMSMasterKeyID` ->
    `kms_master_key_id`, `Ipv6CidrBlock` -> `ipv6_cidr_block`."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9_]", "_", s).lower()
    s = re.sub(r"_+", "_", s).strip("_") or "field"
    if s[0].isdigit():
        s = "n" + s
    return s + "_" if s in KEYWORDS else s


def pascal(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    s = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not s or s[0].isdigit():
        s = "T" + s
    return s


def variant(value: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", value)
    s = re.sub(r"_+", "_", s).strip("_") or "empty"
    if s[0].isdigit():
        s = "v" + s
    return s + "_" if s in KEYWORDS else s


def doc(text: str | None, indent: str) -> list[str]:
    """A description as `##` lines: the whole sentences of its first paragraph that fit in about
    six lines, wrapped."""
    if not text:
        return []
    first = " ".join(text.strip().split("\n\n")[0].split())
    if not first:
        return []
    budget = 6 * (WIDTH - len(indent) - 3)
    if len(first) > budget:
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`(\[])", first)
        kept = ""
        for sentence in sentences:
            if kept and len(kept) + len(sentence) + 1 > budget:
                break
            kept = f"{kept} {sentence}".strip()
        first = kept if len(kept) <= budget else kept[: budget - 3].rsplit(" ", 1)[0] + "..."
    lines = textwrap.wrap(first, WIDTH - len(indent) - 3, break_long_words=False, break_on_hyphens=False)
    return [f"{indent}## {line}" for line in lines]


def string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


class Type:
    """One resource type's schema, turned into carbon declarations."""

    def __init__(self, cfn_name: str, schema: dict[str, Any], service: str, taken: set[str]):
        self.cfn_name = cfn_name
        self.schema = schema
        self.service = service
        self.name = pascal(cfn_name.split("::")[2])
        self.decls: list[str] = []  # records and enums, carbon text
        self.taken = taken  # declaration names used in this namespace
        self.defs: dict[str, str] = {}  # definition name -> carbon type
        self.fields: dict[str, dict[str, Any]] = {}  # carbon field -> index entry
        self.records: dict[str, dict[str, Any]] = {}  # record -> its fields' index entries
        self.notes: list[str] = []

    def fresh(self, base: str) -> str:
        name = base
        n = 2
        while name in self.taken:
            name = f"{base}{n}"
            n += 1
        self.taken.add(name)
        return name

    def definition(self, ref: str, depth: int) -> tuple[str, str]:
        """The carbon type of a `$ref`, and its kind (`record`, `enum`, `json`, ...)."""
        if not ref.startswith("#/definitions/"):
            return "String", "json"
        key = ref.rsplit("/", 1)[1]
        if key in self.defs:
            return self.defs[key], "record"
        d = self.schema.get("definitions", {}).get(key)
        if d is None:
            return "String", "json"
        # Recursive definitions (a rule that holds rules) end as JSON documents.
        self.defs[key] = "String"
        ty, kind = self.shape(d, self.name + pascal(key), depth + 1)
        self.defs[key] = ty
        return ty, kind

    def shape(self, p: dict[str, Any], name_hint: str, depth: int) -> tuple[str, str]:
        """The carbon type of a property schema and its kind: `scalar`, `number`, `record`,
        `enum`, `map`, `list`, `json`."""
        if "$ref" in p:
            return self.definition(p["$ref"], depth)
        ty = p.get("type")
        if isinstance(ty, list):
            ty = ty[0] if len(ty) == 1 else None
        if ty == "string":
            values = p.get("enum")
            if values and all(isinstance(v, str) for v in values) and depth < 6:
                return self.enum(name_hint, values), "enum"
            return "String", "scalar"
        if ty == "integer":
            return "Int", "scalar"
        if ty == "boolean":
            return "Bool", "scalar"
        if ty == "number":
            return "String", "number"
        if ty == "array":
            items = p.get("items") or {}
            inner, kind = self.shape(items, name_hint, depth + 1) if items else ("String", "json")
            return f"List<{inner}>", "list" if kind != "json" else "json_list"
        if ty == "object" and p.get("properties") and depth < 6:
            return self.record(name_hint, p), "record"
        if ty == "object":
            values = p.get("patternProperties") or {}
            additional = p.get("additionalProperties")
            shapes = list(values.values()) + ([additional] if isinstance(additional, dict) else [])
            if shapes and all(s.get("type") == "string" for s in shapes):
                return "Map<String, String>", "map"
        return "String", "json"

    def enum(self, hint: str, values: list[str]) -> str:
        name = self.fresh(hint)
        seen: set[str] = set()
        parts = []
        for v in values:
            n = variant(v)
            while n in seen:
                n += "_"
            seen.add(n)
            parts.append(n if n == v else f"{n} = {string(v)}")
        self.decls.append(f"enum {name} {{ {', '.join(parts)} }}")
        return name

    def record(self, hint: str, p: dict[str, Any]) -> str:
        name = self.fresh(hint)
        required = set(p.get("required", []))
        lines = doc(p.get("description"), "")
        lines.append(f"record {name} {{")
        fields = []
        used: set[str] = set()
        for prop, sub in p["properties"].items():
            ty, kind = self.shape(sub, name + pascal(prop), 1)
            field = snake(prop)
            while field in used:
                field += "_"
            used.add(field)
            entry = doc(sub.get("description"), "    ")
            opt = "" if prop in required else "?"
            entry.append(f"    {field}: {ty}{opt}")
            fields.append("\n".join(entry))
            self.records.setdefault(name, {})[field] = {"cfn": prop, "kind": kind}
        lines.append(",\n".join(fields))
        lines.append("}")
        self.decls.append("\n".join(lines))
        return name

    def carbon(self, regional: bool) -> str:
        s = self.schema
        props: dict[str, Any] = s.get("properties", {})

        def names(key: str) -> set[str]:
            out = set()
            for ptr in s.get(key, []):
                parts = ptr.split("/")
                if len(parts) == 3 and parts[1] == "properties":
                    out.add(parts[2])
            return out

        read_only = names("readOnlyProperties")
        create_only = names("createOnlyProperties")
        primary = [ptr.split("/")[-1] for ptr in s.get("primaryIdentifier", [])]
        required = set(s.get("required", []))
        handlers = sorted(s.get("handlers", {}).keys())
        lookup = "create" not in handlers
        tagging = s.get("tagging") or {}
        tag_prop = None
        if tagging.get("taggable") and tagging.get("tagProperty", "/properties/Tags").count("/") == 2:
            tag_prop = tagging.get("tagProperty", "/properties/Tags").split("/")[2]
            if tag_prop not in props:
                tag_prop = None
        body: list[str] = []
        used: set[str] = set()
        for prop, p in props.items():
            field = snake(prop)
            while field in used:
                field += "_"
            used.add(field)
            if prop == tag_prop:
                ty, kind, tags = "Map<String, String>", "tags", tag_shape(p, self.schema)
            else:
                ty, kind = self.shape(p, self.name + pascal(prop), 1)
                tags = None
            computed = prop in read_only and not (lookup and prop in primary)
            entry = doc(p.get("description"), "    ")
            if computed:
                line = f"    {field}: {ty} computed"
            elif prop == tag_prop:
                line = f"    {field}: {ty} = {{}}"
            elif lookup:
                line = f"    {field}: {ty}" + ("" if prop in primary else "?")
            else:
                line = f"    {field}: {ty}" + ("" if prop in required else "?")
            if prop in create_only and not computed:
                line += " forces_new"
            entry.append(line)
            body.append("\n".join(entry))
            self.fields[field] = {"cfn": prop, "kind": kind}
            if tags:
                self.fields[field]["tags"] = tags
        placement = "regional" if regional else "global"
        head = doc(s.get("description"), "")
        head.append(f"resource_type aws.{self.service}.{self.name} {placement}{' lookup' if lookup else ''} {{")
        out = self.decls + ["\n".join(head + body + ["}"])]
        self.index = {
            "cfn": self.cfn_name,
            "primary_identifier": [snake(p) for p in primary],
            "handlers": handlers,
            "fields": self.fields,
            "records": self.records,
        }
        return "\n\n".join(out)


def tag_shape(p: dict[str, Any], schema: dict[str, Any]) -> str:
    """How the tag property holds tags: `list` of Key/Value records or `map`."""
    if p.get("type") == "array":
        return "list"
    if "$ref" in p:
        d = schema.get("definitions", {}).get(p["$ref"].rsplit("/", 1)[1], {})
        if d.get("type") == "array":
            return "list"
    return "map"


def hand_written(stdlib_aws: Path) -> tuple[set[str], dict[str, set[str]]]:
    """The resource types the hand-written schemas declare, and every name they declare per
    namespace (a generated record or enum must not take one)."""
    types = set()
    names: dict[str, set[str]] = {}
    for f in sorted(stdlib_aws.glob("*.carbon")):
        text = f.read_text()
        for m in re.finditer(r"^resource_type\s+(aws\.[a-z0-9]+\.[A-Za-z0-9]+)", text, re.M):
            types.add(m.group(1))
        for m in re.finditer(r"^(?:enum|record)\s+([A-Za-z0-9_]+)", text, re.M):
            names.setdefault(f.stem, set()).add(m.group(1))
    return types, names


def main() -> None:
    schemas, stdlib_aws, out = (Path(a) for a in sys.argv[1:4])
    regions: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    pseudo: dict[str, str] = {}  # types of a pseudo-region (SAM's transform), by type
    for prov in sorted((schemas / "providers").glob("*.json")):
        region = prov.stem
        # Region codes only (the data also lists pseudo-regions such as `sam`).
        if not re.fullmatch(r"[a-z]{2,4}(-gov|-iso[a-z]*)?-[a-z]+-\d", region):
            for cfn in json.loads(prov.read_text()):
                pseudo.setdefault(cfn, region)
            continue
        for cfn, digest in json.loads(prov.read_text()).items():
            regions.setdefault(cfn, []).append(region)
            # us-east-1's version of a schema when it differs by region (the first file otherwise).
            if region == "us-east-1" or cfn not in files:
                files[cfn] = digest
    skip_hand, declared = hand_written(stdlib_aws)
    by_service: dict[str, list[str]] = {}
    taken: dict[str, set[str]] = {}
    index: dict[str, Any] = {"types": {}, "skipped": {}}
    for cfn, region in sorted(pseudo.items()):
        if cfn not in files:
            index["skipped"][cfn] = f"listed only for `{region}` (a transform, not a resource type)"
    for cfn in sorted(files):
        parts = cfn.split("::")
        if len(parts) != 3 or parts[0] != "AWS":
            index["skipped"][cfn] = "not an AWS:: type"
            continue
        service = NAMESPACES.get(parts[1], re.sub(r"[^a-z0-9]", "", parts[1].lower()))
        name = f"aws.{service}.{pascal(parts[2])}"
        covered = COVERED.get(cfn, name)
        if covered in skip_hand:
            index["skipped"][cfn] = f"hand-written as {covered}"
            continue
        try:
            schema = json.loads((schemas / "resources" / f"{files[cfn]}.json").read_text())
        except (OSError, ValueError) as e:
            index["skipped"][cfn] = f"schema unreadable: {e}"
            continue
        if not isinstance(schema.get("properties"), dict):
            index["skipped"][cfn] = "no properties"
            continue
        t = Type(cfn, schema, service, taken.setdefault(service, set(declared.get(service, set()))))
        t.taken.add(t.name)
        text = t.carbon(parts[1] not in GLOBAL_SERVICES)
        by_service.setdefault(service, []).append(text)
        entry = t.index
        entry["regions"] = sorted(regions[cfn])
        index["types"][name] = entry
    (out / "aws").mkdir(parents=True, exist_ok=True)
    for old in (out / "aws").glob("*.carbon"):
        old.unlink()
    for service, texts in sorted(by_service.items()):
        header = (
            f"# Generated by scripts/gen-schemas from CloudFormation's resource schemas (aws.{service}).\n"
            "# Do not edit: regenerate.\n\n"
        )
        (out / "aws" / f"{service}.carbon").write_text(header + "\n\n".join(texts) + "\n")
    # Where each type is missing, for the check of a placement (E0310): one line per type that some
    # region of the data lacks, `TYPE<TAB>REGION REGION ...`; a type without a line is everywhere.
    every = sorted({r for rs in regions.values() for r in rs})
    lines = [f"# Regions of CloudFormation's data: {' '.join(every)}"]
    for name, entry in sorted(index["types"].items()):
        missing = [r for r in every if r not in entry["regions"]]
        if missing:
            lines.append(f"{name}\t{' '.join(missing)}")
    (out / "unavailable.txt").write_text("\n".join(lines) + "\n")
    (out / "index.json").write_text(json.dumps(index, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"{len(index['types'])} types in {len(by_service)} namespaces, {len(index['skipped'])} skipped")


if __name__ == "__main__":
    main()
