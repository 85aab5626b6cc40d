//! `carbonc-aws`: the AWS provider. The only crate that links the AWS SDK.
//!
//! One SDK configuration per region, built from the standard credential chain (environment,
//! profile, SSO, instance role), optionally assuming `provider_role_arn` through STS; endpoints
//! follow `AWS_ENDPOINT_URL` (and per-service variants), which is how the tests point it at the
//! emulator. Global services (IAM, Route53, CloudFront) go through us-east-1.
//!
//! Every resource type is one entry of `registry.rs` (its service, the region its calls go to, and
//! its `create`, `read`, `update`, `delete` and `find`, the last adopting by the
//! `carbon:address`/`carbon:lineage` tags), with its functions in one module per service. Types
//! not implemented yet answer `ProviderError::Unsupported`, so `carbonc apply` names them instead
//! of failing obscurely.
//!
//! Architecture invariant: only this crate sees `aws-sdk-*`; it speaks to the engine through
//! `carbonc_apply::Provider` and nothing else.

mod attrs;
mod clickhouse;
mod cloudfront;
mod cloudwatch;
mod ec2;
mod eks;
mod eks_access;
mod elasticache;
mod elbv2;
mod error;
mod helm;
mod iam;
mod kms;
mod kube;
mod network;
mod poll;
mod rds;
mod registry;
mod retry;
mod route53;
mod s3;
mod s3_state;
mod secrets;
mod security_group;
mod sns;
mod synthetics;
mod waf;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, Provider, ProviderError, ReadRequest,
    UpdateRequest,
};
use tokio::sync::Mutex;

pub use error::classify;
pub use helm::{helm_binary, helm_version};
pub use s3_state::{KmsDataKeys, S3Backend};
pub use synthetics::{script as canary_script, zip as canary_zip};

/// The region of global services.
pub const GLOBAL_REGION: &str = "us-east-1";

/// The AWS provider: lazily one SDK configuration per region.
pub struct AwsProvider {
    role_arn: Option<String>,
    /// An endpoint and static keys that take precedence over the environment's.
    endpoint: Option<(String, aws_sdk_sts::config::Credentials)>,
    configs: Mutex<BTreeMap<String, SdkConfig>>,
    /// The local chart directory of each Helm release that has one, by address.
    charts: std::sync::Mutex<BTreeMap<String, std::path::PathBuf>>,
}

/// The Helm release type, applied with the user's `helm` (`helm.rs`), not through the registry.
pub const HELM_RELEASE: &str = "k8s.HelmRelease";

/// The network policy type, applied to the cluster's Kubernetes API (`kube.rs`).
pub const NETWORK_POLICY: &str = "k8s.NetworkPolicy";

/// A ClickHouse cluster inside an EKS cluster, installed as a Helm release of carbonc's own chart.
pub const CLICKHOUSE_CLUSTER: &str = "k8s.ClickHouseCluster";

/// The types whose changes run helm (and need it installed).
pub fn runs_helm(ty: &str) -> bool {
    ty == HELM_RELEASE || ty == CLICKHOUSE_CLUSTER
}

impl AwsProvider {
    /// `role_arn`: a role to assume for every call (`provider_role_arn`).
    pub fn new(role_arn: Option<String>) -> Arc<AwsProvider> {
        Arc::new(AwsProvider {
            role_arn,
            endpoint: None,
            configs: Mutex::new(BTreeMap::new()),
            charts: Default::default(),
        })
    }

    /// A provider for one endpoint (an emulator) with static keys, whatever the environment
    /// says: for a process that talks to several endpoints at once, such as the test suite.
    pub fn with_endpoint(url: &str, access_key: &str, secret_key: &str) -> Arc<AwsProvider> {
        let keys =
            aws_sdk_sts::config::Credentials::new(access_key, secret_key, None, None, "carbonc");
        Arc::new(AwsProvider {
            role_arn: None,
            endpoint: Some((url.to_string(), keys)),
            configs: Mutex::new(BTreeMap::new()),
            charts: Default::default(),
        })
    }

    /// The local chart directory of each Helm release that has one (its `chart` is a path
    /// relative to the file that declares it, which only the compiler knows), by address.
    pub fn set_local_charts(&self, charts: BTreeMap<String, std::path::PathBuf>) {
        *self.charts.lock().unwrap_or_else(|e| e.into_inner()) = charts;
    }

    fn local_charts(&self) -> BTreeMap<String, std::path::PathBuf> {
        self.charts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) async fn config(&self, region: Option<&str>) -> SdkConfig {
        let region = region.unwrap_or(GLOBAL_REGION).to_string();
        let mut configs = self.configs.lock().await;
        if let Some(c) = configs.get(&region) {
            return c.clone();
        }
        let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(4);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(retry.clone());
        if let Some((url, keys)) = &self.endpoint {
            loader = loader.endpoint_url(url).credentials_provider(keys.clone());
        }
        let base = loader.load().await;
        let config = match &self.role_arn {
            Some(arn) => {
                let provider = aws_config::sts::AssumeRoleProvider::builder(arn.clone())
                    .configure(&base)
                    .session_name("carbonc")
                    .build()
                    .await;
                aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(region.clone()))
                    .retry_config(retry)
                    .credentials_provider(provider)
                    .load()
                    .await
            }
            None => base,
        };
        configs.insert(region, config.clone());
        config
    }
}

impl AwsProvider {
    /// Checks once, before any change, that the credentials work (STS `GetCallerIdentity`), so that
    /// a missing or wrong credential is one clear error instead of a failure per resource.
    pub async fn preflight(&self) -> Result<String, ProviderError> {
        let c = aws_sdk_sts::Client::new(&self.config(None).await);
        let out = c
            .get_caller_identity()
            .send()
            .await
            .map_err(classify)
            .map_err(|e| match (&self.role_arn, e) {
                (
                    Some(role),
                    ProviderError::Permanent { code, message }
                    | ProviderError::Retryable { code, message },
                ) => ProviderError::Permanent {
                    code,
                    message: format!(
                        "{message} (acting as role {role}, the program's `provider_role_arn`: \
                         check that the role exists and trusts your credentials)"
                    ),
                },
                (_, e) => e,
            })?;
        Ok(out.arn().unwrap_or("").to_string())
    }

    /// The role every call is made as (`provider_role_arn`), if any.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }
}

/// The configuration for a create whose API takes no client token (CreateVpc, CreateSubnet,
/// CreateSecurityGroup, CreateInternetGateway, AllocateAddress, KMS CreateKey): without the SDK's
/// own retries. When an answer is lost after AWS acted, the SDK would send the call again and
/// make a second resource; with one attempt, the error reaches the engine, whose retry first
/// looks for the resource by its `carbon:address` and `carbon:lineage` tags and adopts it.
pub(crate) fn single_attempt(cfg: &SdkConfig) -> SdkConfig {
    cfg.to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build()
}

/// Whether the provider creates, reads, updates and deletes resources of type `ty`.
pub fn implements(ty: &str) -> bool {
    runs_helm(ty) || ty == NETWORK_POLICY || registry::kind(ty).is_some()
}

fn unsupported(ty: &str) -> ProviderError {
    ProviderError::Unsupported {
        what: format!("{ty} (the AWS provider does not implement this resource type yet)"),
    }
}

impl AwsProvider {
    /// The entry of a type, or the error that names it as not implemented.
    fn kind(ty: &str) -> Result<&'static registry::Kind, ProviderError> {
        registry::kind(ty).ok_or_else(|| unsupported(ty))
    }

    /// The SDK configuration of the region a call about `ty` goes to. `region` is the
    /// resource's; `id` its provider id (a Global Datastore's holds its primary's region);
    /// `resource` the resolved resource on create.
    async fn endpoint(
        &self,
        kind: &registry::Kind,
        region: Option<&str>,
        id: Option<&str>,
        resource: Option<&carbonc_apply::Resolved>,
    ) -> SdkConfig {
        match kind.endpoint {
            registry::Endpoint::Own => self.config(region).await,
            registry::Endpoint::DatastorePrimary => {
                let primary = match (resource, id) {
                    (Some(r), _) => elasticache::datastore_region(r),
                    (None, Some(id)) => elasticache::split(id).1.map(str::to_string),
                    (None, None) => region.map(str::to_string),
                };
                self.config(primary.as_deref()).await
            }
        }
    }
}

impl Provider for AwsProvider {
    async fn create(&self, req: CreateRequest) -> Result<Found, ProviderError> {
        if req.resource.ty == HELM_RELEASE {
            let c = self.config(req.resource.region.as_deref()).await;
            return helm::create(&c, &req, &self.local_charts()).await;
        }
        if req.resource.ty == NETWORK_POLICY {
            let c = self.config(req.resource.region.as_deref()).await;
            return kube::create_policy(&c, &req).await;
        }
        if req.resource.ty == CLICKHOUSE_CLUSTER {
            let c = self.config(req.resource.region.as_deref()).await;
            return clickhouse::create(&c, &req).await;
        }
        let kind = Self::kind(&req.resource.ty)?;
        let create = kind.create.ok_or_else(|| unsupported(&req.resource.ty))?;
        let c = self
            .endpoint(
                kind,
                req.resource.region.as_deref(),
                None,
                Some(&req.resource),
            )
            .await;
        create(&c, &req).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Found>, ProviderError> {
        if runs_helm(&req.ty) {
            return helm::read(&self.config(req.region.as_deref()).await, &req).await;
        }
        if req.ty == NETWORK_POLICY {
            return kube::read_policy(&self.config(req.region.as_deref()).await, &req).await;
        }
        let kind = Self::kind(&req.ty)?;
        let c = self
            .endpoint(kind, req.region.as_deref(), Some(&req.id), None)
            .await;
        (kind.read)(&c, &req).await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Found, ProviderError> {
        if req.resource.ty == HELM_RELEASE {
            let c = self.config(req.resource.region.as_deref()).await;
            return helm::update(&c, &req, &self.local_charts()).await;
        }
        if req.resource.ty == NETWORK_POLICY {
            let c = self.config(req.resource.region.as_deref()).await;
            return kube::update_policy(&c, &req).await;
        }
        if req.resource.ty == CLICKHOUSE_CLUSTER {
            let c = self.config(req.resource.region.as_deref()).await;
            return clickhouse::update(&c, &req).await;
        }
        let kind = Self::kind(&req.resource.ty)?;
        let update = kind.update.ok_or_else(|| unsupported(&req.resource.ty))?;
        let c = self
            .endpoint(kind, req.resource.region.as_deref(), Some(&req.id), None)
            .await;
        update(&c, &req).await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        if runs_helm(&req.ty) {
            return helm::delete(&self.config(req.region.as_deref()).await, &req).await;
        }
        if req.ty == NETWORK_POLICY {
            return kube::delete_policy(&self.config(req.region.as_deref()).await, &req).await;
        }
        let kind = Self::kind(&req.ty)?;
        let delete = kind.delete.ok_or_else(|| unsupported(&req.ty))?;
        let c = self
            .endpoint(kind, req.region.as_deref(), Some(&req.id), None)
            .await;
        delete(&c, &req).await
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Found>, ProviderError> {
        // Without a way to search (no tags), an intent is dropped and the next apply creates
        // again; the idempotency token (where the API takes one) prevents a duplicate.
        let Some(find) = registry::kind(&req.ty).and_then(|k| k.find) else {
            return Ok(None);
        };
        let c = self.config(req.region.as_deref()).await;
        // Each find skips `exclude` where it matches by tags; this is the guard for the rest.
        // Adopting a deposed object as its successor would have it deleted as deposed.
        Ok(find(&c, &req)
            .await?
            .filter(|f| !req.exclude.contains(&f.id)))
    }

    /// AWS's answers for a name that is taken: `DBSubnetGroupAlreadyExists`,
    /// `DBClusterAlreadyExistsFault`, `ReplicationGroupAlreadyExists`, `EntityAlreadyExists` (IAM),
    /// `AlreadyExistsException` (KMS aliases), `InvalidGroup.Duplicate` (EC2 security groups),
    /// `WAFDuplicateItemException`, `ResourceExistsException` (Secrets Manager), and EKS's
    /// `ResourceInUseException` when it says the name exists. Not for the types whose `find`
    /// cannot prove whose a resource is (`registry::find_proves_owner`): someone else's would be
    /// taken over.
    fn name_taken(&self, ty: &str, error: &ProviderError) -> bool {
        let ProviderError::Permanent { code, message } = error else {
            return false;
        };
        if !registry::find_proves_owner(ty) {
            return false;
        }
        code.contains("AlreadyExists")
            || code.contains("Duplicate")
            || code == "ResourceExistsException"
            || (code == "ResourceInUseException" && message.contains("already exists"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::tests::permanent;

    #[test]
    fn a_taken_name_is_adopted_only_where_find_proves_whose_it_is() {
        let p = AwsProvider::new(None);
        let exists = permanent("DBSubnetGroupAlreadyExists", "already exists");
        assert!(p.name_taken("aws.rds.SubnetGroup", &exists));
        assert!(p.name_taken(
            "aws.ec2.SecurityGroup",
            &permanent("InvalidGroup.Duplicate", "exists")
        ));
        assert!(p.name_taken(
            "aws.eks.Cluster",
            &permanent(
                "ResourceInUseException",
                "Cluster already exists with name: x"
            )
        ));
        assert!(!p.name_taken(
            "aws.eks.Cluster",
            &permanent("ResourceInUseException", "Cluster has node groups attached")
        ));
        // A KMS alias takes no tags, and an association is whatever is attached: never adopted.
        assert!(!p.name_taken(
            "aws.kms.Alias",
            &permanent("AlreadyExistsException", "exists")
        ));
        assert!(!p.name_taken(
            "aws.wafv2.WebAclAssociation",
            &permanent("WAFDuplicateItemException", "exists")
        ));
        // Throttling is the retry path's, not this one's.
        let throttled = ProviderError::Retryable {
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
        };
        assert!(!p.name_taken("aws.rds.SubnetGroup", &throttled));
    }
}
