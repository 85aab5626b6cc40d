//! `carbonc-aws`: the AWS provider. The only crate that links the AWS SDK.
//!
//! One SDK configuration per region, built from the standard credential chain (environment,
//! profile, SSO, instance role), optionally assuming `provider_role_arn` through STS; endpoints
//! follow `AWS_ENDPOINT_URL` (and per-service variants), which is how the tests point it at the
//! emulator. Global services (IAM, Route53, CloudFront) go through us-east-1.
//!
//! Every resource type is one module with `create`, `read`, `update`, `delete` and `find` (crash
//! adoption by the `carbon:address`/`carbon:lineage` tags). Types not implemented yet answer
//! `ProviderError::Unsupported`, so `carbonc apply` names them instead of failing obscurely.
//!
//! Architecture invariant: only this crate sees `aws-sdk-*`; it speaks to the engine through
//! `carbonc_apply::Provider` and nothing else.

mod attrs;
mod cloudfront;
mod ec2;
mod eks;
mod elasticache;
mod error;
mod iam;
mod kms;
mod network;
mod poll;
mod rds;
mod retry;
mod route53;
mod s3_state;
mod secrets;
mod security_group;
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
pub use s3_state::{KmsDataKeys, S3Backend};

/// The region of global services.
pub const GLOBAL_REGION: &str = "us-east-1";

/// The AWS provider: lazily one SDK configuration per region.
pub struct AwsProvider {
    role_arn: Option<String>,
    configs: Mutex<BTreeMap<String, SdkConfig>>,
}

impl AwsProvider {
    /// `role_arn`: a role to assume for every call (`provider_role_arn`).
    pub fn new(role_arn: Option<String>) -> Arc<AwsProvider> {
        Arc::new(AwsProvider {
            role_arn,
            configs: Mutex::new(BTreeMap::new()),
        })
    }

    pub(crate) async fn config(&self, region: Option<&str>) -> SdkConfig {
        let region = region.unwrap_or(GLOBAL_REGION).to_string();
        let mut configs = self.configs.lock().await;
        if let Some(c) = configs.get(&region) {
            return c.clone();
        }
        let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(4);
        let base = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .retry_config(retry.clone())
            .load()
            .await;
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

fn unsupported(ty: &str) -> ProviderError {
    ProviderError::Unsupported {
        what: format!("{ty} (the AWS provider does not implement this resource type yet)"),
    }
}

impl Provider for AwsProvider {
    async fn create(&self, req: CreateRequest) -> Result<Found, ProviderError> {
        let c = self.config(req.resource.region.as_deref()).await;
        match req.resource.ty.as_str() {
            "aws.kms.Key" => kms::create_key(&c, &req).await,
            "aws.kms.Alias" => kms::create_alias(&c, &req).await,
            "aws.ec2.Vpc"
            | "aws.ec2.Subnet"
            | "aws.ec2.InternetGateway"
            | "aws.ec2.SecurityGroup"
            | "aws.ec2.Eip" => ec2::create(&c, &req).await,
            "aws.iam.Role" | "aws.iam.RolePolicyAttachment" => iam::create(&c, &req).await,
            "aws.secretsmanager.Secret" => secrets::create(&c, &req).await,
            "aws.ec2.NatGateway" => network::create_nat(&c, &req).await,
            "aws.ec2.RouteTable" => network::create_route_table(&c, &req).await,
            "aws.eks.Cluster" => eks::create_cluster(&c, &req).await,
            "aws.eks.NodeGroup" => eks::create_nodegroup(&c, &req).await,
            "aws.secretsmanager.Rotation" => secrets::rotation::create(&c, &req).await,
            "aws.elasticache.SubnetGroup" | "aws.elasticache.ReplicationGroup" => {
                elasticache::create(&c, &req).await
            }
            "aws.elasticache.GlobalReplicationGroup" => {
                let region = elasticache::datastore_region(&req.resource);
                elasticache::create(&self.config(region.as_deref()).await, &req).await
            }
            "aws.cloudfront.Distribution" => cloudfront::create(&c, &req).await,
            "aws.wafv2.IpSet"
            | "aws.wafv2.WebAcl"
            | "aws.wafv2.RuleGroup"
            | "aws.wafv2.WebAclAssociation" => waf::create(&c, &req).await,
            "aws.rds.GlobalCluster"
            | "aws.rds.SubnetGroup"
            | "aws.rds.Cluster"
            | "aws.rds.ClusterInstance" => rds::create(&c, &req).await,
            "aws.route53.Zone" | "aws.route53.HealthCheck" | "aws.route53.Record" => {
                route53::create(&c, &req).await
            }
            ty => Err(unsupported(ty)),
        }
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Found>, ProviderError> {
        let c = self.config(req.region.as_deref()).await;
        match req.ty.as_str() {
            "aws.kms.Key" => kms::read_key(&c, &req).await,
            "aws.kms.Alias" => kms::read_alias(&c, &req).await,
            "aws.ec2.Vpc"
            | "aws.ec2.Subnet"
            | "aws.ec2.InternetGateway"
            | "aws.ec2.SecurityGroup"
            | "aws.ec2.Eip" => ec2::read(&c, &req).await,
            "aws.iam.Role" | "aws.iam.RolePolicyAttachment" => iam::read(&c, &req).await,
            "aws.secretsmanager.Secret" => secrets::read(&c, &req).await,
            "aws.ec2.NatGateway" | "aws.ec2.RouteTable" => network::read(&c, &req).await,
            "aws.eks.Cluster" | "aws.eks.NodeGroup" => eks::read(&c, &req).await,
            "aws.secretsmanager.Rotation" => secrets::rotation::read(&c, &req).await,
            "aws.elasticache.SubnetGroup" | "aws.elasticache.ReplicationGroup" => {
                elasticache::read(&c, &req).await
            }
            "aws.elasticache.GlobalReplicationGroup" => {
                let region = elasticache::split(&req.id).1.map(str::to_string);
                elasticache::read(&self.config(region.as_deref()).await, &req).await
            }
            "aws.cloudfront.Distribution" => cloudfront::read(&c, &req).await,
            "aws.wafv2.IpSet"
            | "aws.wafv2.WebAcl"
            | "aws.wafv2.RuleGroup"
            | "aws.wafv2.WebAclAssociation"
            | "aws.acm.Certificate" => waf::read(&c, &req).await,
            "aws.rds.GlobalCluster"
            | "aws.rds.SubnetGroup"
            | "aws.rds.Cluster"
            | "aws.rds.ClusterInstance" => rds::read(&c, &req).await,
            "aws.route53.Zone" | "aws.route53.HealthCheck" | "aws.route53.Record" => {
                route53::read(&c, &req).await
            }
            ty => Err(unsupported(ty)),
        }
    }

    async fn update(&self, req: UpdateRequest) -> Result<Found, ProviderError> {
        let c = self.config(req.resource.region.as_deref()).await;
        match req.resource.ty.as_str() {
            "aws.kms.Key" => kms::update_key(&c, &req).await,
            "aws.kms.Alias" => kms::update_alias(&c, &req).await,
            "aws.ec2.Vpc"
            | "aws.ec2.Subnet"
            | "aws.ec2.InternetGateway"
            | "aws.ec2.SecurityGroup"
            | "aws.ec2.Eip" => ec2::update(&c, &req).await,
            "aws.iam.Role" => iam::update(&c, &req).await,
            "aws.secretsmanager.Secret" => secrets::update(&c, &req).await,
            "aws.ec2.NatGateway" | "aws.ec2.RouteTable" => network::update(&c, &req).await,
            "aws.eks.Cluster" | "aws.eks.NodeGroup" => eks::update(&c, &req).await,
            "aws.secretsmanager.Rotation" => secrets::rotation::update(&c, &req).await,
            "aws.elasticache.SubnetGroup" | "aws.elasticache.ReplicationGroup" => {
                elasticache::update(&c, &req).await
            }
            "aws.elasticache.GlobalReplicationGroup" => {
                let region = elasticache::split(&req.id).1.map(str::to_string);
                elasticache::update(&self.config(region.as_deref()).await, &req).await
            }
            "aws.cloudfront.Distribution" => cloudfront::update(&c, &req).await,
            "aws.wafv2.IpSet"
            | "aws.wafv2.WebAcl"
            | "aws.wafv2.RuleGroup"
            | "aws.wafv2.WebAclAssociation" => waf::update(&c, &req).await,
            "aws.rds.GlobalCluster"
            | "aws.rds.SubnetGroup"
            | "aws.rds.Cluster"
            | "aws.rds.ClusterInstance" => rds::update(&c, &req).await,
            "aws.route53.Zone" | "aws.route53.HealthCheck" | "aws.route53.Record" => {
                route53::update(&c, &req).await
            }
            ty => Err(unsupported(ty)),
        }
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        let c = self.config(req.region.as_deref()).await;
        match req.ty.as_str() {
            "aws.kms.Key" => kms::delete_key(&c, &req).await,
            "aws.kms.Alias" => kms::delete_alias(&c, &req).await,
            "aws.ec2.Vpc"
            | "aws.ec2.Subnet"
            | "aws.ec2.InternetGateway"
            | "aws.ec2.SecurityGroup"
            | "aws.ec2.Eip" => ec2::delete(&c, &req).await,
            "aws.iam.Role" | "aws.iam.RolePolicyAttachment" => iam::delete(&c, &req).await,
            "aws.secretsmanager.Secret" => secrets::delete(&c, &req).await,
            "aws.ec2.NatGateway" | "aws.ec2.RouteTable" => network::delete(&c, &req).await,
            "aws.eks.Cluster" | "aws.eks.NodeGroup" => eks::delete(&c, &req).await,
            "aws.secretsmanager.Rotation" => secrets::rotation::delete(&c, &req).await,
            "aws.elasticache.SubnetGroup" | "aws.elasticache.ReplicationGroup" => {
                elasticache::delete(&c, &req).await
            }
            "aws.elasticache.GlobalReplicationGroup" => {
                let region = elasticache::split(&req.id).1.map(str::to_string);
                elasticache::delete(&self.config(region.as_deref()).await, &req).await
            }
            "aws.cloudfront.Distribution" => cloudfront::delete(&c, &req).await,
            "aws.wafv2.IpSet"
            | "aws.wafv2.WebAcl"
            | "aws.wafv2.RuleGroup"
            | "aws.wafv2.WebAclAssociation" => waf::delete(&c, &req).await,
            "aws.rds.GlobalCluster"
            | "aws.rds.SubnetGroup"
            | "aws.rds.Cluster"
            | "aws.rds.ClusterInstance" => rds::delete(&c, &req).await,
            "aws.route53.Zone" | "aws.route53.HealthCheck" | "aws.route53.Record" => {
                route53::delete(&c, &req).await
            }
            ty => Err(unsupported(ty)),
        }
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Found>, ProviderError> {
        let c = self.config(req.region.as_deref()).await;
        match req.ty.as_str() {
            "aws.kms.Key" => kms::find_key(&c, &req).await,
            "aws.kms.Alias" => kms::find_alias(&c, &req).await,
            "aws.ec2.Vpc"
            | "aws.ec2.Subnet"
            | "aws.ec2.InternetGateway"
            | "aws.ec2.SecurityGroup"
            | "aws.ec2.Eip" => ec2::find(&c, &req).await,
            "aws.iam.Role" => iam::find(&c, &req).await,
            "aws.secretsmanager.Secret" => secrets::find(&c, &req).await,
            "aws.ec2.NatGateway" | "aws.ec2.RouteTable" => network::find(&c, &req).await,
            "aws.eks.Cluster" | "aws.eks.NodeGroup" => eks::find(&c, &req).await,
            "aws.elasticache.SubnetGroup" | "aws.elasticache.ReplicationGroup" => {
                elasticache::find(&c, &req).await
            }
            "aws.elasticache.GlobalReplicationGroup" => elasticache::find(&c, &req).await,
            "aws.cloudfront.Distribution" => cloudfront::find(&c, &req).await,
            "aws.wafv2.IpSet"
            | "aws.wafv2.WebAcl"
            | "aws.wafv2.RuleGroup"
            | "aws.wafv2.WebAclAssociation" => waf::find(&c, &req).await,
            "aws.rds.GlobalCluster"
            | "aws.rds.SubnetGroup"
            | "aws.rds.Cluster"
            | "aws.rds.ClusterInstance" => rds::find(&c, &req).await,
            "aws.route53.Zone" | "aws.route53.HealthCheck" | "aws.route53.Record" => {
                route53::find(&c, &req).await
            }
            // Without tags to search by, an intent is dropped and the next apply creates again; the
            // idempotency token (where the API takes one) prevents a duplicate.
            _ => Ok(None),
        }
    }
}
