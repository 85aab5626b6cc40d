"""Unit tests of validator.py: known-bad and known-good requests in every protocol carbonc uses.

Requests are put on the wire by botocore's own serialisers (with its client-side validation
off), exactly as an SDK would send them, then handed to the validator.

    ~/.cache/carbonc/venv/bin/python -m unittest tests/emulator/test_validator.py
"""

import json
import pathlib
import sys
import unittest
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.dont_write_bytecode = True

import botocore.serialize  # noqa: E402
import botocore.session  # noqa: E402

import validator  # noqa: E402

SESSION = botocore.session.get_session()


def wire(service: str, operation: str, params: dict) -> validator.Request:
    """The HTTP request an SDK sends for `operation(params)`, signed for `service`."""
    model = SESSION.get_service_model(service)
    op = model.operation_model(operation)
    ser = botocore.serialize.create_serializer(model.protocol, include_validation=False)
    r = ser.serialize_to_request(params, op)
    body = r["body"]
    if isinstance(body, dict):
        body = urllib.parse.urlencode(body).encode()
        r["headers"]["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    elif isinstance(body, str):
        body = body.encode()
    query = r["query_string"]
    if isinstance(query, dict):
        query = urllib.parse.urlencode(query, doseq=True)
    headers = dict(r["headers"])
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/{model.signing_name}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    return validator.Request(r["method"], r["url_path"].split("?")[0], query, headers, body or b"")


class Protocols(unittest.TestCase):
    def refused(self, service, operation, params):
        before = validator.LEDGER.snapshot()["validated"].get(service, 0)
        answer = validator.validate(wire(service, operation, params))
        after = validator.LEDGER.snapshot()["validated"].get(service, 0)
        self.assertEqual(after, before + 1, f"{service}.{operation} was not recognised")
        self.assertIsNotNone(answer, f"{service}.{operation} {params} passed")
        return answer

    def passes(self, service, operation, params):
        before = validator.LEDGER.snapshot()["validated"].get(service, 0)
        answer = validator.validate(wire(service, operation, params))
        after = validator.LEDGER.snapshot()["validated"].get(service, 0)
        self.assertEqual(after, before + 1, f"{service}.{operation} was not recognised")
        self.assertIsNone(answer, answer and answer[2])

    # query protocol (IAM, RDS, ElastiCache, STS)
    def test_query_tag_pattern_from_the_model(self):
        status, _, body = self.refused(
            "iam",
            "CreateRole",
            {
                "RoleName": "eks",
                "AssumeRolePolicyDocument": "{}",
                "Tags": [{"Key": "carbon:address", "Value": "role[us-east-1]"}],
            },
        )
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>ValidationError</Code>", body)
        self.assertIn(b"at 'tags.1.member.value'", body)
        self.assertIn(b"regular expression pattern", body)

    def test_query_length_and_required(self):
        _, _, body = self.refused("iam", "CreateRole", {"RoleName": "r" * 65})
        self.assertIn(b"2 validation errors detected", body)
        self.assertIn(b"Value null at 'assumeRolePolicyDocument'", body)
        self.assertIn(b"Member must have length less than or equal to 64", body)

    def test_query_documented_tag_rule(self):
        _, _, body = self.refused(
            "rds",
            "CreateDBSubnetGroup",
            {
                "DBSubnetGroupName": "db",
                "DBSubnetGroupDescription": "d",
                "SubnetIds": ["subnet-1"],
                "Tags": [{"Key": "carbon:address", "Value": "db[us-east-1].subnets"}],
            },
        )
        self.assertIn(b"<Code>InvalidParameterValue</Code>", body)
        self.assertIn(b"Tag values may only contain", body)

    def test_query_enum(self):
        _, _, body = self.refused(
            "elasticache",
            "CreateReplicationGroup",
            {"ReplicationGroupId": "r", "ReplicationGroupDescription": "d", "ClusterMode": "sometimes"},
        )
        self.assertIn(b"enum value set", body)

    def test_query_good(self):
        self.passes(
            "iam",
            "CreateRole",
            {
                "RoleName": "eks",
                "AssumeRolePolicyDocument": "{}",
                "Tags": [{"Key": "carbon:address", "Value": "role=5Bus-east-1=5D"}],
            },
        )
        self.passes(
            "rds",
            "CreateDBSubnetGroup",
            {
                "DBSubnetGroupName": "db",
                "DBSubnetGroupDescription": "d",
                "SubnetIds": ["subnet-1"],
                "Tags": [{"Key": "carbon:address", "Value": "db=5Bus-east-1=5D.subnets"}],
            },
        )

    # EC2 protocol
    def test_ec2_missing_and_good(self):
        status, _, body = self.refused("ec2", "CreateSubnet", {"CidrBlock": "10.0.0.0/24"})
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>MissingParameter</Code>", body)
        self.assertIn(b"<Response><Errors>", body)
        self.passes(
            "ec2",
            "CreateVpc",
            {
                "CidrBlock": "10.0.0.0/16",
                "TagSpecifications": [
                    {"ResourceType": "vpc", "Tags": [{"Key": "carbon:address", "Value": "vpc[us-east-1]"}]}
                ],
            },
        )

    def test_ec2_enum_inside_a_list(self):
        _, _, body = self.refused(
            "ec2",
            "CreateVpc",
            {"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "spaceship", "Tags": []}]},
        )
        self.assertIn(b"tagSpecifications.1.member.resourceType", body)

    # JSON 1.0 / 1.1
    def test_json_pattern_and_code(self):
        status, headers, body = self.refused("kms", "CreateAlias", {"AliasName": "alias/x y", "TargetKeyId": "k"})
        self.assertEqual(status, 400)
        doc = json.loads(body)
        self.assertEqual(doc["__type"], "ValidationException")
        self.assertIn("aliasName", doc["message"])
        self.assertEqual(headers["x-amzn-ErrorType"], "ValidationException")

    def test_json_wafv2_tag_value(self):
        _, _, body = self.refused(
            "wafv2",
            "CreateIPSet",
            {
                "Name": "allow",
                "Scope": "CLOUDFRONT",
                "IPAddressVersion": "IPV4",
                "Addresses": [],
                "Tags": [{"Key": "carbon:address", "Value": "allow[us-east-1]"}],
            },
        )
        self.assertIn("tags.1.member.value", json.loads(body)["message"])

    def test_json_good(self):
        self.passes("kms", "CreateAlias", {"AliasName": "alias/db-us-east-1", "TargetKeyId": "k"})
        self.passes("dynamodb", "GetItem", {"TableName": "locks", "Key": {"id": {"S": "x"}}})

    # REST-JSON
    def test_rest_json_uri_label_and_body(self):
        _, headers, body = self.refused(
            "eks",
            "CreateNodegroup",
            {
                "clusterName": "c",
                "nodegroupName": "n",
                "subnets": ["s"],
                "nodeRole": "arn",
                "scalingConfig": {"minSize": -1, "maxSize": 1, "desiredSize": 1},
                "amiType": "WINDOWS_98",
            },
        )
        message = json.loads(body)["message"]
        self.assertIn("amiType", message)
        self.assertIn("scalingConfig.minSize", message)
        self.passes("eks", "DescribeUpdate", {"name": "c", "updateId": "u", "nodegroupName": "n"})

    # REST-XML
    def test_rest_xml_route53(self):
        status, _, body = self.refused(
            "route53",
            "CreateHealthCheck",
            {"CallerReference": "x" * 65, "HealthCheckConfig": {"Type": "HTTPS", "FailureThreshold": 11}},
        )
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidInput</Code>", body)
        self.assertIn(b"failureThreshold", body)
        self.assertIn(b"callerReference", body)
        _, _, body = self.refused(
            "route53",
            "ChangeTagsForResource",
            {
                "ResourceType": "healthcheck",
                "ResourceId": "abc",
                "AddTags": [{"Key": "carbon:address", "Value": "api_health[us-east-1]"}],
            },
        )
        self.assertIn(b"Tags can only contain", body)

    def test_rest_xml_trailing_slash_is_optional(self):
        # Route 53's ChangeResourceRecordSets URI ends in `/rrset/`; SDKs send it with or without.
        req = wire(
            "route53",
            "ChangeResourceRecordSets",
            {
                "HostedZoneId": "Z123",
                "ChangeBatch": {"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "a.example.com", "Type": "A", "TTL": 60}}]},
            },
        )
        req.path = req.path.rstrip("/")
        model = validator.models().for_signing_name("route53")
        op = validator.find_operation(model, req)
        self.assertEqual(op.name, "ChangeResourceRecordSets")
        self.assertEqual(validator.decode(model, op, req)["ChangeBatch"]["Changes"][0]["ResourceRecordSet"]["TTL"], 60)

    def test_rest_xml_cloudfront_payload(self):
        _, _, body = self.refused(
            "cloudfront",
            "CreateDistribution",
            {
                "DistributionConfig": {
                    "CallerReference": "c",
                    "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "x.example.com"}]},
                    "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "sometimes"},
                    "Comment": "",
                    "Enabled": True,
                }
            },
        )
        self.assertIn(b"viewerProtocolPolicy", body)
        self.passes("route53", "GetChange", {"Id": "C123"})

    def test_s3_current_operation_over_a_deprecated_one_on_the_same_uri(self):
        # PutBucketLifecycle (deprecated) and PutBucketLifecycleConfiguration share
        # `PUT /{Bucket}?lifecycle`: the request is the current operation's.
        req = wire(
            "s3",
            "PutBucketLifecycleConfiguration",
            {"Bucket": "b", "LifecycleConfiguration": {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 30}}]}},
        )
        # `wire` keeps the query string the serializer builds, not the part of the URI template.
        req = validator.Request(req.method, req.path, "lifecycle", req.headers, req.body)
        model = validator.models().for_signing_name("s3")
        op = validator.find_operation(model, req)
        self.assertEqual(op.name, "PutBucketLifecycleConfiguration")
        self.assertEqual(validator.decode(model, op, req)["LifecycleConfiguration"]["Rules"][0]["Expiration"]["Days"], 30)

    def test_s3_object_bodies_are_not_parsed(self):
        self.passes("s3", "PutObject", {"Bucket": "state", "Key": "a/b.json", "Body": b"{not xml"})

    def test_unknown_services_and_operations_pass(self):
        req = wire("iam", "CreateRole", {"RoleName": "r" * 65})
        req.headers["authorization"] = "AWS4-HMAC-SHA256 Credential=t/20261205/us-east-1/nosuchservice/aws4_request"
        self.assertIsNone(validator.validate(req))


class RpcV2Cbor(unittest.TestCase):
    """rpcv2_cbor.py: CloudWatch over RPC v2 CBOR (as the Rust SDK calls it) reaches the validator
    and moto as the JSON protocol, and the answer goes back as CBOR."""

    def call(self, operation: str, params: dict, answer=(200, {}, b"{}")):
        import io

        import rpcv2_cbor

        model = SESSION.get_service_model("cloudwatch")
        op = model.operation_model(operation)
        r = botocore.serialize.RpcV2CBORSerializer().serialize_to_request(params, op)
        seen = {}

        def moto(environ, start_response):
            seen["target"] = environ.get("HTTP_X_AMZ_TARGET")
            seen["body"] = environ["wsgi.input"].read()
            status, headers, body = answer
            start_response(f"{status} X", list(headers.items()))
            return [body]

        app = rpcv2_cbor.bridge(validator.wsgi_middleware(moto))
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": r["url_path"],
            "CONTENT_LENGTH": str(len(r["body"])),
            "CONTENT_TYPE": "application/cbor",
            "HTTP_SMITHY_PROTOCOL": "rpc-v2-cbor",
            "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/"
            "monitoring/aws4_request, SignedHeaders=host, Signature=0",
            "wsgi.input": io.BytesIO(r["body"]),
        }
        got = {}

        def start_response(status, headers, exc_info=None):
            got["status"], got["headers"] = status, dict(headers)

        body = b"".join(app(environ, start_response))
        parsed = botocore.parsers.RpcV2CBORParser().parse(
            {"body": body, "headers": {k.lower(): v for k, v in got["headers"].items()},
             "status_code": int(got["status"].split()[0])},
            op.output_shape,
        )
        return seen, got, parsed

    def test_a_request_reaches_moto_as_json_and_the_answer_comes_back_as_cbor(self):
        import botocore.parsers  # noqa: F401

        moto_answer = json.dumps({"MetricAlarms": [{"AlarmName": "lag", "Threshold": 5.0}]})
        seen, got, parsed = self.call(
            "DescribeAlarms", {"AlarmNames": ["lag"]}, (200, {"Content-Type": "application/x-amz-json-1.0"}, moto_answer.encode())
        )
        self.assertEqual(seen["target"], "GraniteServiceVersion20100801.DescribeAlarms")
        self.assertEqual(json.loads(seen["body"]), {"AlarmNames": ["lag"]})
        self.assertEqual(got["headers"]["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(parsed["MetricAlarms"], [{"AlarmName": "lag", "Threshold": 5.0}])

    def test_a_request_the_model_refuses_is_a_cbor_error_with_the_query_code(self):
        import botocore.parsers  # noqa: F401

        seen, got, parsed = self.call("DeleteAlarms", {"AlarmNames": ["x" * 300]})
        self.assertNotIn("target", seen, "the refused request reached moto")
        self.assertTrue(got["status"].startswith("400"), got["status"])
        self.assertEqual(got["headers"]["x-amzn-query-error"], "ValidationError;Sender")
        self.assertEqual(parsed["Error"]["Code"], "ValidationError")
        self.assertIn("Member must have length less than or equal to 255", parsed["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
