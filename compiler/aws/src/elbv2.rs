//! Elastic Load Balancing v2: `aws.elbv2.LoadBalancer` is a lookup. The load balancer with the
//! given name (or ARN, when `name` is one) must exist in the region it is placed in
//! (`DescribeLoadBalancers` by `Names` or `LoadBalancerArns`, whose `LoadBalancerNotFound` says
//! it does not); carbonc reads its DNS name and hosted zone for the records and origins that
//! point at it, and never creates or deletes it.

use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::Client;
use carbonc_apply::{Found, ProviderError, ReadRequest};

use crate::attrs::{s, with};
use crate::error::{classify, found};

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    let by_arn = name.starts_with("arn:");
    let ask = c.describe_load_balancers();
    let ask = if by_arn {
        ask.load_balancer_arns(&name)
    } else {
        ask.names(&name)
    };
    let Some(out) = found(ask.send().await.map_err(classify))? else {
        return Ok(None);
    };
    let Some(lb) = out.load_balancers().iter().find(|lb| {
        let have = if by_arn {
            lb.load_balancer_arn()
        } else {
            lb.load_balancer_name()
        };
        have == Some(name.as_str())
    }) else {
        return Ok(None);
    };
    let Some(arn) = lb.load_balancer_arn().map(str::to_string) else {
        return Ok(None);
    };
    let attrs = with(
        &req.attrs,
        &[
            ("arn", Some(arn.clone())),
            ("dns_name", lb.dns_name().map(str::to_string)),
            (
                "canonical_hosted_zone_id",
                lb.canonical_hosted_zone_id().map(str::to_string),
            ),
            ("type", lb.r#type().map(|t| t.as_str().to_string())),
            ("scheme", lb.scheme().map(|t| t.as_str().to_string())),
            (
                "state",
                lb.state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_string()),
            ),
        ],
    );
    Ok(Some(Found { id: arn, attrs }))
}
