//! Every diagnostic code carbonc emits, with a one-line summary. `docs/diagnostics.md` is generated
//! from this table (see the `diagnostics_doc_is_current` test), so the two never drift apart.

pub struct CodeInfo {
    pub code: &'static str,
    pub summary: &'static str,
    pub fix: &'static str,
}

macro_rules! codes {
    ($( $code:literal => $summary:literal, $fix:literal; )*) => {
        pub const CODES: &[CodeInfo] = &[ $( CodeInfo { code: $code, summary: $summary, fix: $fix } ),* ];
    };
}

codes! {
    "E0001" => "Syntax error.", "Fix the text at the marked place; the message says what was expected.";
    "E0101" => "A name is not declared in scope.", "Declare it, import the file that declares it, or fix the spelling.";
    "E0102" => "A name is declared twice in the same scope.", "Rename one of the declarations.";
    "E0103" => "Unknown resource type.", "Use a type from `stdlib/aws` (for example `aws.kms.Key`).";
    "E0104" => "Unknown field for this resource, record or module.", "Remove the field or fix its name.";
    "E0105" => "A required field is missing.", "Add the field; its type is in the schema.";
    "E0106" => "A computed field is assigned.", "Remove it: AWS sets computed fields and they are known after apply.";
    "E0107" => "Unknown function, or a value that cannot be called.", "Use one of the builtin functions or a declared `fn`.";
    "E0108" => "Wrong number or kind of arguments.", "Pass the arguments the function or module declares.";
    "E0109" => "Unknown module.", "Import the file that declares the module and use `alias.module`.";
    "E0110" => "A resource family is indexed with the wrong keys.", "Index it with one key per enclosing `for` loop, for example `db_key[r]`.";
    "E0111" => "Unknown enum variant.", "Use one of the variants the enum declares.";
    "E0112" => "A declaration is not allowed here.", "Move it to where the message says it belongs.";
    "E0113" => "A value needed at check time is not known.", "Loop over regions or values known before apply, not over parameters without a default or computed attributes.";
    "E0114" => "A parameter of the root file has no value (plan needs every value).", "Pass it with `--var name=value`, a `--var-file`, or `CARBON_VAR_name`, or give the parameter a default.";
    "E0115" => "A value given for a parameter does not fit its type.", "Give a literal of the parameter's type; strings may be given raw with `--var`.";
    "E0116" => "A variable names no parameter of the root file.", "Remove it or fix the name.";
    "E0117" => "Resources depend on each other in a cycle.", "Break the cycle: one of the references must go, or read a value that is not computed.";
    "E0118" => "A plan would destroy a resource marked `prevent_destroy`.", "Remove `prevent_destroy` from its `lifecycle` if destroying it is intended, or undo the change that replaces it.";
    "E0119" => "`provider_role_arn` is not an IAM role ARN.", "Give `arn:aws:iam::<12-digit account>:role/<name>`, or an empty string to act with your own credentials.";
    "E0201" => "Type mismatch.", "Give a value of the expected type.";
    "E0202" => "No such field or attribute on this value.", "Use one of the fields the type declares.";
    "E0203" => "This value cannot be indexed or iterated.", "Index lists, maps and resource families only; iterate lists and maps.";
    "E0204" => "Evaluation error (bad CIDR, missing map key, division by zero, ...).", "Fix the value; the message names the operation that failed.";
    "E0301" => "A reference points to a resource in another region where the schema demands the same region.", "Use the resource of the same region, usually by indexing the family with the loop's region.";
    "E0302" => "A reference must point to a resource in a fixed region (for example us-east-1 for CloudFront certificates).", "Declare the referenced resource in the region the message names.";
    "E0303" => "A regional resource has no placement.", "Add `@ region` after the resource name.";
    "E0304" => "A global resource has a placement.", "Remove the `@ region`: global resources (IAM, Route53, CloudFront, ...) live in no region.";
    "E0305" => "Unknown AWS region code.", "Use a region code such as `us-east-1` or `eu-west-1`.";
    "E0306" => "A region declaration is invalid (missing code, bad role or maintenance window).", "Give `code`, `role` (`.primary` or `.secondary`) and `maintenance` as `ddd:hh:mm-ddd:hh:mm`.";
    "E0307" => "A CLOUDFRONT-scope WAF resource is not in us-east-1.", "Place CLOUDFRONT-scope web ACLs, IP sets and rule groups in the us-east-1 region.";
    "E0308" => "An ARN names a different region than the resource's placement.", "Place the lookup in the region the ARN names, or use the ARN of that region's resource.";
    "E0309" => "WAF resources of different scopes are combined (a REGIONAL IP set in a CLOUDFRONT web ACL, a REGIONAL web ACL on a distribution).", "Use resources of one scope: `.CLOUDFRONT` for CloudFront, `.REGIONAL` for regional resources.";
    "E0310" => "A resource type does not exist in the region it is placed in.", "Place it in a region that offers the type (CloudFormation's per-region resource lists say which).";
    "E0401" => "Two members of an Aurora global database are in the same region.", "Give every member cluster its own region.";
    "E0402" => "An Aurora global database does not have exactly one primary cluster.", "Mark exactly one member `global_role = .primary`.";
    "E0403" => "An Aurora secondary cluster sets master credentials.", "Remove `master_username`/`master_password` from secondaries: they replicate the primary's.";
    "E0404" => "An encrypted Aurora secondary has no KMS key in its region.", "Set `kms_key` to a key in the secondary's region.";
    "E0405" => "Aurora global members differ in engine or engine version.", "Use the global cluster's engine and engine version in every member.";
    "E0406" => "An Aurora global database has more than 10 secondary regions.", "Remove secondaries: AWS allows at most 10.";
    "E0407" => "An Aurora global database instance class is not memory-optimized.", "Use a `db.r*` or `db.x*` instance class.";
    "E0408" => "RDS cannot manage the master password of an Aurora global database member.", "Set `master_password` from a `Secret` parameter, rotated with `aws.secretsmanager.Rotation`.";
    "E0501" => "An ElastiCache Global Datastore has more than 2 secondary regions.", "Remove secondaries: AWS allows at most 2.";
    "E0502" => "ElastiCache Global Datastore members differ in node type, engine version or shard count.", "Use the primary's node type, engine version and number of shards in every member.";
    "E0503" => "ElastiCache Global Datastore members differ in at-rest encryption.", "Use the primary's at-rest encryption setting; it is fixed at creation.";
    "E0601" => "Two Route53 latency records for the same name and type are in the same region.", "Keep one latency record per region per name and type.";
    "E0602" => "Two Route53 records for the same name and type share a set identifier.", "Give every record a unique `set_identifier`, for example from the region code.";
    "E0603" => "A Route53 latency record's region differs from its target's region.", "Set `latency_region` to the region of the resource the record points to.";
    "E0604" => "A Route53 latency record has no health check.", "Attach a `health_check` so Route53 stops routing to an unhealthy region.";
    "E0606" => "A Route 53 health check names fewer than 3 checker regions, or a region without health checkers.", "Name at least 3 of us-east-1, us-west-1, us-west-2, eu-west-1, ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1, or leave `regions` out.";
    "E0701" => "A CloudFront origin group does not have exactly two origins.", "Give the origin group a primary and a failover origin.";
    "E0702" => "A CloudFront origin group uses a failover status code AWS does not accept.", "Use only 400, 403, 404, 416, 500, 502, 503 and 504.";
    "E0703" => "A CloudFront origin group or cache behaviour names an unknown origin.", "Name an origin declared in `origins` (or an origin group).";
    "E0704" => "A CloudFront origin's written `region` is not the region its domain name comes from (a load balancer's DNS name).", "Remove the origin's `region`: it is derived from the domain name.";
    "E0801" => "An EKS node group's AMI type does not match its instance family.", "Use a GPU AMI type (such as `AL2023_x86_64_NVIDIA`) for GPU instances, an ARM AMI for Graviton, and a standard AMI otherwise.";
    "E0802" => "An EKS secrets-encryption key is not a symmetric key.", "Use a KMS key with `key_spec = .SYMMETRIC_DEFAULT`.";
    "E0803" => "An EKS access entry's cluster authenticates only through the `aws-auth` ConfigMap (`authentication_mode = .CONFIG_MAP`): EKS refuses access entries (\"The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP]\", EKS API reference, CreateAccessEntry).", "Set the cluster's `authentication_mode` to `.API_AND_CONFIG_MAP` (or `.API`); it changes in place, towards `.API` only.";
    "E0804" => "An EKS add-on's `configuration` is not a JSON object, or the VPC CNI's `enableNetworkPolicy` is not the string \"true\" or \"false\": EKS validates the configuration against the add-on's schema and refuses it (\"Json schema validation failed\", EKS API reference, CreateAddon.configurationValues).", "Build it with `json({ ... })`, and write `enableNetworkPolicy = \"true\"` as a string.";
    "E0805" => "Two EKS add-ons of one name, two access entries for one principal, or two Pod Identity associations for one service account, on one cluster: EKS refuses the second (ResourceInUseException; EKS API reference, CreateAddon, CreateAccessEntry, CreatePodIdentityAssociation).", "Keep one of them.";
    "E0806" => "An EKS access entry or access policy association EKS refuses: a Kubernetes group starting with `system:`, a policy ARN that is not an EKS access policy, a `.namespace` scope without namespaces or a `.cluster` scope with some (EKS API reference, CreateAccessEntry.kubernetesGroups, AssociateAccessPolicy, AccessScope).", "Use a group of your own, an `arn:aws:eks::aws:cluster-access-policy/...` ARN, and a scope that fits its type.";
    "E0807" => "An EKS add-on's configuration uses an attribute of a resource in another region than its cluster's (the VPC CNI's `eniConfig` with another region's subnets or security groups, a key of another region): the add-on runs in its cluster's region and would reach across regions.", "Use the resource of the cluster's own region.";
    "E0901" => "Maintenance windows overlap so that fewer regions are available than the project requires (`[availability] regions` in carbon.toml, default all but one).", "Stagger the regions' `maintenance` windows, or lower `[availability] regions`.";
    "E1001" => "A secret flows into a non-secret place (a plain field, tag, name, output or string).", "Keep it in `Secret<...>` fields, or convert it visibly with `reveal(...)` if exposing it is intended.";
    "E1101" => "A file cannot be read (missing, a directory, not UTF-8).", "Check the path; imports are relative to the importing file.";
    "E1102" => "Files import each other in a cycle.", "Move the shared declarations into a third file that both import.";
    "E1201" => "A CloudWatch alarm watches a metric published in another region. AWS accepts the alarm, which then never has data: \"Cross-Region functionality is not supported for alarms\" (CloudWatch User Guide, cross-account cross-Region dashboards); Route 53 health-check metrics and CloudFront metrics exist in us-east-1 only (Route 53 Developer Guide, monitoring health checks with CloudWatch; CloudFront Developer Guide, CloudFront metrics in CloudWatch).", "Create the alarm in the region where the metric is published.";
    "E1202" => "A CloudWatch alarm watches a Route 53 latency metric (ConnectionTime, TimeToFirstByte, SSLHandshakeTime) of a health check that does not measure latency: Route 53 publishes them only for checks created with MeasureLatency (Route 53 Developer Guide, monitoring health checks with CloudWatch).", "Set `measure_latency = true` on the health check (it replaces it).";
    "E1203" => "A CloudWatch dashboard's widgets break the rules of the dashboard body (a widget is exactly one of metrics, markdown or alarms; 1-24 wide, 1-1000 high; periods in minutes; at most 500 widgets): PutDashboard would refuse it (CloudWatch API reference, Dashboard Body Structure and Syntax).", "Fix the widgets the message names.";
    "E1204" => "A Synthetics canary's `runtime` is not a Python (`syn-python-selenium-*`) runtime. carbonc writes a canary's script in Python from its `check`; on a Node.js or Java runtime Synthetics cannot load it (the handler must be a module of the runtime's language: CloudWatch User Guide, \"Writing a canary script\"), so every run would fail.", "Use a `syn-python-selenium-*` runtime, such as the default.";
    "E1301" => "Kubernetes network policies on an EKS cluster whose VPC CNI does not enforce them: no `vpc-cni` add-on in the program, or one whose configuration does not set `enableNetworkPolicy` to \"true\". The API server stores the policies and nothing is enforced (EKS User Guide, \"Limit Pod traffic with Kubernetes network policies\").", "Give the cluster a `vpc-cni` add-on with `configuration = json({ enableNetworkPolicy = \"true\" })`.";
    "E1302" => "A Kubernetes object the API server (or Helm) would refuse: a namespace or name that is not a DNS label or subdomain, a release name over 53 characters, a label key or value off its syntax, a port outside 1-65535 or an `end_port` without or below `port`, a peer with nothing or with both selectors and an `ip_block`, a CIDR that does not parse or an `except` outside its block (Kubernetes API reference, NetworkPolicy v1; \"Object Names and IDs\"; \"Labels and Selectors\").", "Change the value as the message says.";
    "E1303" => "Two network policies, or two Helm releases, of one name in one namespace of one cluster: the second replaces the first policy, or fails (\"cannot re-use a name that is still in use\").", "Rename one of them, or put it in another namespace.";
    "E1304" => "A Helm release's values use an attribute of a resource in another region than the release's (a cache, database, bucket or key of another region): the service would reach across regions on every request and fail with that region.", "Use the resource of the release's own region.";
    "E1305" => "A ClickHouse cluster's layout cannot work: a Keeper quorum that is not 3 or 5 nodes, two Keeper nodes in one zone (that zone's loss takes the quorum), or no shard or replica. ClickHouse Keeper, like ZooKeeper, needs a majority of its nodes to accept writes (ClickHouse documentation, \"ClickHouse Keeper\").", "List 3 (or 5) keeper zones, all distinct, and at least one shard and replica.";
    "E1306" => "A ClickHouse cluster places a server in a zone that is not one of its region's, or where its EKS cluster has no subnet: the server would run in another region, or never be scheduled.", "Use zones of the EKS cluster's subnets.";
    "P0101" => "Policy: an allowlist (security group, EKS API, WAF IP set) contains 0.0.0.0/0 or ::/0.", "List the networks that need access.";
    "P0102" => "Policy: storage is not encrypted at rest (Aurora, ElastiCache, EKS node volumes).", "Turn encryption at rest on; it is fixed at creation.";
    "P0103" => "Policy: an EKS API endpoint is public without an allowlist.", "Set `public_access_cidrs`, or make the endpoint private.";
    "P0105" => "Policy: a CloudFront origin group fails over between origins of one region.", "Make the failover origin another region's endpoint.";
    "P0106" => "Policy: a WAF web ACL is attached to nothing.", "Attach it to a distribution, or remove it.";
    "P0107" => "Policy: a Secrets Manager secret has no rotation.", "Add an `aws.secretsmanager.Rotation` for it.";
    "P0108" => "Policy: one region's failure takes an entry point down, or keeps sending part of its users to the failed region.", "Serve it from two regions: an origin group across regions, or latency records with health checks.";
    "P0109" => "Policy: a CloudWatch alarm notifies no one (no `alarm_actions`, and no composite alarm with actions watches it). Active when the program declares alarms.", "Add the region's on-call topic to `alarm_actions`.";
    "P0110" => "Policy: an Aurora secondary cluster's or a Redis Global Datastore secondary's replication lag has no alarm. Active when the program declares alarms or canaries.", "Alarm on the secondary's `metrics.global_replication_lag` in its region.";
    "P0111" => "Policy: a Route 53 health check that routing follows has no alarm. Active when the program declares alarms or canaries.", "Alarm on the health check's `metrics.status` in us-east-1.";
    "P0112" => "Policy: a region that serves traffic (holds a load balancer) is not probed by any Synthetics canary: a canary whose `check.url` comes from the load balancer's `dns_name`. Active when the program declares alarms or canaries.", "Add canaries in other regions that probe the region's load balancer.";
    "P0113" => "Policy: a region's endpoint is probed by canaries in fewer than two other regions (one when the program has two regions). A region's failure takes its own canaries with it, and a single outside vantage point cannot tell the endpoint's failure from its own path's. Active when the program declares alarms or canaries.", "Probe the region from two other regions.";
    "W0605" => "Warning: a Route53 latency record's target is a hostname or address written as text, whose region carbon cannot check.", "Look the load balancer up (`aws.elbv2.LoadBalancer`) and use its `dns_name`; for a host outside AWS, turn the warning off in carbon.toml.";
    "W0705" => "Warning: a CloudFront origin's domain name is a hostname written as text, so its region (and a written `region`) cannot be checked.", "Look the load balancer up (`aws.elbv2.LoadBalancer`) and use its `dns_name`; for a host outside AWS, turn the warning off in carbon.toml.";
    "W0803" => "Warning: an EKS Pod Identity association's cluster has no `eks-pod-identity-agent` add-on in the program: EKS accepts the association, but no pod gets its credentials (EKS User Guide, \"Set up the Amazon EKS Pod Identity Agent\").", "Add an `aws.eks.Addon` named \"eks-pod-identity-agent\" on the cluster; if the agent is installed another way, turn W0803 off in carbon.toml.";
    "W1301" => "Warning: network policies deny a release's pods all egress to DNS (UDP 53 to `k8s-app: kube-dns` in `kube-system`): every name lookup times out, so the service fails although its other allows are right.", "Add an egress rule to kube-dns on UDP and TCP 53.";
    "W1302" => "Warning: a ClickHouse cluster has more replicas per shard than zones: replicas of a shard share a zone, whose loss takes them together.", "List at least as many zones as replicas.";
    "W1303" => "Warning: a network policy's `pod_selector` chooses none of the Helm releases of its namespace (a label written wrong, or pods labelled otherwise than the release's `pod_labels` say): the policy protects nothing, and the API server accepts it.", "Use the labels of the pods the policy is for.";
}

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}
