"""The schema generator's mapping (tools/schemas/generate.py), on small schemas written here."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "schemas"))

import generate  # noqa: E402


class Names(unittest.TestCase):
    def test_properties_become_snake_case_fields(self):
        cases = {
            "BucketName": "bucket_name",
            "SSEAlgorithm": "sse_algorithm",
            "KMSMasterKeyID": "kms_master_key_id",
            "Ipv6CidrBlock": "ipv6_cidr_block",
            "DBClusterIdentifier": "db_cluster_identifier",
            "For": "for_",
            "Lifecycle": "lifecycle_",
            "3DModel": "n3_d_model",
        }
        for prop, field in cases.items():
            self.assertEqual(generate.snake(prop), field, prop)

    def test_enum_values_become_variants(self):
        self.assertEqual(generate.variant("aws:kms"), "aws_kms")
        self.assertEqual(generate.variant("1.0"), "v1_0")
        self.assertEqual(generate.variant("if"), "if_")


def carbon(cfn, schema, service="demo"):
    t = generate.Type(cfn, schema, service, set())
    text = t.carbon(regional=True)
    return text, t.index


class Mapping(unittest.TestCase):
    def test_required_computed_create_only_and_tags(self):
        text, index = carbon(
            "AWS::Demo::Queue",
            {
                "description": "A queue.",
                "properties": {
                    "Name": {"type": "string", "description": "Its name."},
                    "Delay": {"type": "integer"},
                    "Ratio": {"type": "number"},
                    "Arn": {"type": "string"},
                    "Policy": {"type": "object"},
                    "Tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                },
                "definitions": {
                    "Tag": {
                        "type": "object",
                        "properties": {"Key": {"type": "string"}, "Value": {"type": "string"}},
                    }
                },
                "required": ["Name"],
                "readOnlyProperties": ["/properties/Arn"],
                "createOnlyProperties": ["/properties/Name"],
                "primaryIdentifier": ["/properties/Arn"],
                "handlers": {"create": {}, "read": {}, "delete": {}},
                "tagging": {"taggable": True, "tagProperty": "/properties/Tags"},
            },
        )
        self.assertIn("resource_type aws.demo.Queue regional {", text)
        self.assertIn("    ## Its name.\n    name: String forces_new", text)
        self.assertIn("    delay: Int?", text)
        self.assertIn("    arn: String computed", text)
        self.assertIn("    tags: Map<String, String> = {}", text)
        self.assertEqual(index["fields"]["ratio"], {"cfn": "Ratio", "kind": "number"})
        self.assertEqual(index["fields"]["policy"], {"cfn": "Policy", "kind": "json"})
        self.assertEqual(index["fields"]["tags"]["tags"], "list")
        self.assertEqual(index["primary_identifier"], ["arn"])

    def test_nested_objects_become_records_and_enums(self):
        text, index = carbon(
            "AWS::Demo::Repo",
            {
                "properties": {
                    "Scan": {"$ref": "#/definitions/Scan"},
                    "Mode": {"type": "string", "enum": ["MUTABLE", "IMMUTABLE"]},
                    "Labels": {"type": "object", "patternProperties": {".*": {"type": "string"}}},
                },
                "definitions": {
                    "Scan": {
                        "type": "object",
                        "properties": {"OnPush": {"type": "boolean"}},
                        "required": ["OnPush"],
                    }
                },
                "handlers": {"read": {}},
                "primaryIdentifier": ["/properties/Mode"],
            },
        )
        self.assertIn("record RepoScan {\n    on_push: Bool\n}", text)
        self.assertIn("enum RepoMode { MUTABLE, IMMUTABLE }", text)
        # No create handler: a lookup, whose primary identifier is what a program sets.
        self.assertIn("resource_type aws.demo.Repo regional lookup {", text)
        self.assertIn("    mode: RepoMode\n", text)
        self.assertIn("    labels: Map<String, String>?", text)
        self.assertEqual(index["records"]["RepoScan"]["on_push"], {"cfn": "OnPush", "kind": "scalar"})

    def test_a_recursive_definition_ends_as_json(self):
        text, _ = carbon(
            "AWS::Demo::Rule",
            {
                "properties": {"Statement": {"$ref": "#/definitions/Statement"}},
                "definitions": {
                    "Statement": {
                        "type": "object",
                        "properties": {"And": {"type": "array", "items": {"$ref": "#/definitions/Statement"}}},
                    }
                },
                "handlers": {"create": {}},
            },
        )
        self.assertIn("record RuleStatement {\n    and: List<String>?\n}", text)


if __name__ == "__main__":
    unittest.main()
