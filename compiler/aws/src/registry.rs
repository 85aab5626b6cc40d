//! One entry per resource type: which region's endpoint its calls go to, and the functions that create, read, update, delete and find it. The provider looks a
//! type up here and nothing else, so adding a type is one entry (and its module). What each
//! function calls, waits for and retries is in `docs/aws.md`; the errors each retries while AWS
//! settles are constants beside the calls (`retry::Transient`), and every type shares one
//! not-found rule (`error::is_not_found`).

use std::future::Future;
use std::pin::Pin;

use aws_config::SdkConfig;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};

use crate::{
    cloudfront, cloudwatch, ec2, eks, eks_access, elasticache, elbv2, iam, kms, network, rds,
    route53, s3, secrets, sns, synthetics, waf,
};

/// A provider call in flight.
pub(crate) type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

type Create = for<'a> fn(&'a SdkConfig, &'a CreateRequest) -> Call<'a, Found>;
type Read = for<'a> fn(&'a SdkConfig, &'a ReadRequest) -> Call<'a, Option<Found>>;
type Update = for<'a> fn(&'a SdkConfig, &'a UpdateRequest) -> Call<'a, Found>;
type Delete = for<'a> fn(&'a SdkConfig, &'a DeleteRequest) -> Call<'a, ()>;
type Find = for<'a> fn(&'a SdkConfig, &'a FindRequest) -> Call<'a, Option<Found>>;

/// Which region's endpoint a type's calls go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The resource's region; a global type's calls go through us-east-1.
    Own,
    /// A Global Datastore is managed from its primary's region: on create the region of its
    /// `primary` reference, afterwards the region recorded in its `ID|REGION` id.
    DatastorePrimary,
}

/// A resource type; its service is the second part of its name (`aws.rds.Cluster`: RDS).
pub(crate) struct Kind {
    pub ty: &'static str,
    pub endpoint: Endpoint,
    /// `None` for a lookup: the program reads it and never makes it.
    pub create: Option<Create>,
    pub read: Read,
    /// `None`: nothing of it changes in place.
    pub update: Option<Update>,
    /// `None` for a lookup.
    pub delete: Option<Delete>,
    /// `None`: nothing to search by (no tags); an interrupted create is made again, the client
    /// token (where the API takes one) preventing a duplicate.
    pub find: Option<Find>,
}

/// A provider function as a registry entry.
macro_rules! call {
    ($f:path) => {
        |cfg, req| Box::pin($f(cfg, req))
    };
}

macro_rules! kind {
    (
        $ty:literal, $endpoint:ident,
        create: $create:expr, read: $read:path, update: $update:expr,
        delete: $delete:expr, find: $find:expr $(,)?
    ) => {
        Kind {
            ty: $ty,
            endpoint: Endpoint::$endpoint,
            create: $create,
            read: call!($read),
            update: $update,
            delete: $delete,
            find: $find,
        }
    };
}

pub(crate) static KINDS: &[Kind] = &[
    kind!("aws.kms.Key", Own,
        create: Some(call!(kms::create_key)), read: kms::read_key,
        update: Some(call!(kms::update_key)), delete: Some(call!(kms::delete_key)),
        find: Some(call!(kms::find_key))),
    kind!("aws.kms.Alias", Own,
        create: Some(call!(kms::create_alias)), read: kms::read_alias,
        update: Some(call!(kms::update_alias)), delete: Some(call!(kms::delete_alias)),
        find: Some(call!(kms::find_alias))),
    kind!("aws.ec2.Vpc", Own,
        create: Some(call!(ec2::create)), read: ec2::read, update: Some(call!(ec2::update)),
        delete: Some(call!(ec2::delete)), find: Some(call!(ec2::find))),
    kind!("aws.ec2.Subnet", Own,
        create: Some(call!(ec2::create)), read: ec2::read, update: Some(call!(ec2::update)),
        delete: Some(call!(ec2::delete)), find: Some(call!(ec2::find))),
    kind!("aws.ec2.InternetGateway", Own,
        create: Some(call!(ec2::create)), read: ec2::read, update: Some(call!(ec2::update)),
        delete: Some(call!(ec2::delete)), find: Some(call!(ec2::find))),
    kind!("aws.ec2.SecurityGroup", Own,
        create: Some(call!(ec2::create)), read: ec2::read, update: Some(call!(ec2::update)),
        delete: Some(call!(ec2::delete)), find: Some(call!(ec2::find))),
    kind!("aws.ec2.Eip", Own,
        create: Some(call!(ec2::create)), read: ec2::read, update: Some(call!(ec2::update)),
        delete: Some(call!(ec2::delete)), find: Some(call!(ec2::find))),
    kind!("aws.ec2.NatGateway", Own,
        create: Some(call!(network::create_nat)), read: network::read,
        update: Some(call!(network::update)), delete: Some(call!(network::delete)),
        find: Some(call!(network::find))),
    kind!("aws.ec2.RouteTable", Own,
        create: Some(call!(network::create_route_table)), read: network::read,
        update: Some(call!(network::update)), delete: Some(call!(network::delete)),
        find: Some(call!(network::find))),
    kind!("aws.iam.Role", Own,
        create: Some(call!(iam::create)), read: iam::read, update: Some(call!(iam::update)),
        delete: Some(call!(iam::delete)), find: Some(call!(iam::find))),
    kind!("aws.iam.RolePolicyAttachment", Own,
        create: Some(call!(iam::create)), read: iam::read, update: None,
        delete: Some(call!(iam::delete)), find: None),
    kind!("aws.iam.RolePolicy", Own,
        create: Some(call!(iam::create_inline)), read: iam::read_inline,
        update: Some(call!(iam::update_inline)), delete: Some(call!(iam::delete_inline)),
        find: None),
    kind!("aws.secretsmanager.Secret", Own,
        create: Some(call!(secrets::create)), read: secrets::read,
        update: Some(call!(secrets::update)), delete: Some(call!(secrets::delete)),
        find: Some(call!(secrets::find))),
    kind!("aws.secretsmanager.Rotation", Own,
        create: Some(call!(secrets::rotation::create)), read: secrets::rotation::read,
        update: Some(call!(secrets::rotation::update)),
        delete: Some(call!(secrets::rotation::delete)), find: None),
    kind!("aws.eks.Cluster", Own,
        create: Some(call!(eks::create_cluster)), read: eks::read,
        update: Some(call!(eks::update)), delete: Some(call!(eks::delete)),
        find: Some(call!(eks::find))),
    kind!("aws.eks.NodeGroup", Own,
        create: Some(call!(eks::create_nodegroup)), read: eks::read,
        update: Some(call!(eks::update)), delete: Some(call!(eks::delete)),
        find: Some(call!(eks::find))),
    kind!("aws.eks.Addon", Own,
        create: Some(call!(eks_access::create_addon)), read: eks_access::read,
        update: Some(call!(eks_access::update)), delete: Some(call!(eks_access::delete)),
        find: Some(call!(eks_access::find))),
    kind!("aws.eks.AccessEntry", Own,
        create: Some(call!(eks_access::create_entry)), read: eks_access::read,
        update: Some(call!(eks_access::update)), delete: Some(call!(eks_access::delete)),
        find: Some(call!(eks_access::find))),
    // No tags to be found by: associating again is what AWS does for an existing association.
    kind!("aws.eks.AccessPolicyAssociation", Own,
        create: Some(call!(eks_access::create_association)), read: eks_access::read,
        update: None, delete: Some(call!(eks_access::delete)), find: None),
    kind!("aws.eks.PodIdentityAssociation", Own,
        create: Some(call!(eks_access::create_pod_identity)), read: eks_access::read,
        update: Some(call!(eks_access::update)), delete: Some(call!(eks_access::delete)),
        find: Some(call!(eks_access::find))),
    kind!("aws.elasticache.SubnetGroup", Own,
        create: Some(call!(elasticache::create)), read: elasticache::read,
        update: Some(call!(elasticache::update)), delete: Some(call!(elasticache::delete)),
        find: Some(call!(elasticache::find))),
    kind!("aws.elasticache.ReplicationGroup", Own,
        create: Some(call!(elasticache::create)), read: elasticache::read,
        update: Some(call!(elasticache::update)), delete: Some(call!(elasticache::delete)),
        find: Some(call!(elasticache::find))),
    kind!("aws.elasticache.GlobalReplicationGroup", DatastorePrimary,
        create: Some(call!(elasticache::create)), read: elasticache::read,
        update: Some(call!(elasticache::update)), delete: Some(call!(elasticache::delete)),
        find: Some(call!(elasticache::find))),
    kind!("aws.cloudfront.Distribution", Own,
        create: Some(call!(cloudfront::create)), read: cloudfront::read,
        update: Some(call!(cloudfront::update)), delete: Some(call!(cloudfront::delete)),
        find: Some(call!(cloudfront::find))),
    kind!("aws.wafv2.IpSet", Own,
        create: Some(call!(waf::create)), read: waf::read, update: Some(call!(waf::update)),
        delete: Some(call!(waf::delete)), find: Some(call!(waf::find))),
    kind!("aws.wafv2.WebAcl", Own,
        create: Some(call!(waf::create)), read: waf::read, update: Some(call!(waf::update)),
        delete: Some(call!(waf::delete)), find: Some(call!(waf::find))),
    kind!("aws.wafv2.RuleGroup", Own,
        create: Some(call!(waf::create)), read: waf::read, update: Some(call!(waf::update)),
        delete: Some(call!(waf::delete)), find: Some(call!(waf::find))),
    kind!("aws.wafv2.WebAclAssociation", Own,
        create: Some(call!(waf::create)), read: waf::read, update: Some(call!(waf::update)),
        delete: Some(call!(waf::delete)), find: Some(call!(waf::find))),
    kind!("aws.acm.Certificate", Own,
        create: None, read: waf::read, update: None, delete: None, find: None),
    kind!("aws.elbv2.LoadBalancer", Own,
        create: None, read: elbv2::read, update: None, delete: None, find: None),
    kind!("aws.rds.GlobalCluster", Own,
        create: Some(call!(rds::create)), read: rds::read, update: Some(call!(rds::update)),
        delete: Some(call!(rds::delete)), find: Some(call!(rds::find))),
    kind!("aws.rds.SubnetGroup", Own,
        create: Some(call!(rds::create)), read: rds::read, update: Some(call!(rds::update)),
        delete: Some(call!(rds::delete)), find: Some(call!(rds::find))),
    kind!("aws.rds.Cluster", Own,
        create: Some(call!(rds::create)), read: rds::read, update: Some(call!(rds::update)),
        delete: Some(call!(rds::delete)), find: Some(call!(rds::find))),
    kind!("aws.rds.ClusterInstance", Own,
        create: Some(call!(rds::create)), read: rds::read, update: Some(call!(rds::update)),
        delete: Some(call!(rds::delete)), find: Some(call!(rds::find))),
    kind!("aws.route53.Zone", Own,
        create: Some(call!(route53::create)), read: route53::read,
        update: Some(call!(route53::update)), delete: Some(call!(route53::delete)),
        find: Some(call!(route53::find))),
    kind!("aws.route53.HealthCheck", Own,
        create: Some(call!(route53::create)), read: route53::read,
        update: Some(call!(route53::update)), delete: Some(call!(route53::delete)),
        find: Some(call!(route53::find))),
    kind!("aws.route53.Record", Own,
        create: Some(call!(route53::create)), read: route53::read,
        update: Some(call!(route53::update)), delete: Some(call!(route53::delete)),
        find: Some(call!(route53::find))),
    kind!("aws.sns.Topic", Own,
        create: Some(call!(sns::create)), read: sns::read, update: Some(call!(sns::update)),
        delete: Some(call!(sns::delete)), find: Some(call!(sns::find))),
    kind!("aws.sns.Subscription", Own,
        create: Some(call!(sns::subscribe)), read: sns::read_subscription,
        update: Some(call!(sns::update_subscription)), delete: Some(call!(sns::unsubscribe)),
        find: None),
    kind!("aws.s3.Bucket", Own,
        create: Some(call!(s3::create)), read: s3::read, update: Some(call!(s3::update)),
        delete: Some(call!(s3::delete)), find: Some(call!(s3::find))),
    kind!("aws.synthetics.Canary", Own,
        create: Some(call!(synthetics::create)), read: synthetics::read,
        update: Some(call!(synthetics::update)), delete: Some(call!(synthetics::delete)),
        find: Some(call!(synthetics::find))),
    kind!("aws.cloudwatch.MetricAlarm", Own,
        create: Some(call!(cloudwatch::create)), read: cloudwatch::read,
        update: Some(call!(cloudwatch::update)), delete: Some(call!(cloudwatch::delete)),
        find: Some(call!(cloudwatch::find))),
    kind!("aws.cloudwatch.Dashboard", Own,
        create: Some(call!(cloudwatch::create_dashboard)), read: cloudwatch::read_dashboard,
        update: Some(call!(cloudwatch::update_dashboard)),
        delete: Some(call!(cloudwatch::delete_dashboard)), find: None),
    kind!("aws.cloudwatch.CompositeAlarm", Own,
        create: Some(call!(cloudwatch::create)), read: cloudwatch::read,
        update: Some(call!(cloudwatch::update)), delete: Some(call!(cloudwatch::delete)),
        find: Some(call!(cloudwatch::find))),
];

/// The entry of a resource type, if the provider implements it.
pub(crate) fn kind(ty: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.ty == ty)
}

/// Whether the type's `find` proves the resource is this address's (by its carbon tags or the
/// intent's token), rather than matching a name anything could have: a KMS alias takes no tags,
/// and a web ACL association is whatever ACL is attached.
pub(crate) fn find_proves_owner(ty: &str) -> bool {
    !matches!(ty, "aws.kms.Alias" | "aws.wafv2.WebAclAssociation")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every resource type of the standard library has an entry (a new schema without provider
    /// support would answer `Unsupported` at apply time; this says so at test time).
    #[test]
    fn every_stdlib_type_is_implemented() {
        // The directory `cargo test` runs in, not the one this binary was built in: a binary
        // reused from another checkout must read this checkout's schemas.
        let manifest = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
        let dir = std::path::Path::new(&manifest).join("../../stdlib/aws");
        let mut missing = Vec::new();
        for file in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for line in text.lines() {
                if let Some(ty) = line
                    .strip_prefix("resource_type ")
                    .and_then(|r| r.split_whitespace().next())
                    && kind(ty).is_none()
                {
                    missing.push(ty.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "no provider for {missing:?}");
    }

    #[test]
    fn every_type_once() {
        let mut seen = std::collections::BTreeSet::new();
        for k in KINDS {
            assert!(seen.insert(k.ty), "{} twice", k.ty);
        }
    }
}
