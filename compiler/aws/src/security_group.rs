//! Security group rules, compared as AWS compares them: one rule per protocol, port range and CIDR
//! range. The program groups CIDR ranges into `SecurityGroupRule` records and AWS groups them into
//! `IpPermission`s, and the two groupings need not agree; so rules are flattened before any
//! comparison. Creating and updating a group brings its rules to the program's (revoking what the
//! program does not have, AWS's default allow-all egress included, and authorising what is
//! missing), and reading reports the rules AWS has, so a rule added in the console is drift.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, SecurityGroup};
use carbonc_apply::ProviderError;
use carbonc_state::Val;

use crate::attrs::{i, s, strings};
use crate::error::classify;

/// One rule: protocol, port range, one CIDR range (IPv6 when it contains a colon), description.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    protocol: String,
    from: i64,
    to: i64,
    cidr: String,
    description: Option<String>,
}

impl Rule {
    fn new(
        protocol: &str,
        from: Option<i64>,
        to: Option<i64>,
        cidr: &str,
        description: Option<&str>,
    ) -> Rule {
        // "All traffic" has no ports in AWS's answers; the program writes 0 to 0.
        let all = protocol == "-1" || protocol.eq_ignore_ascii_case("all");
        Rule {
            protocol: if all {
                "-1".into()
            } else {
                protocol.to_string()
            },
            from: if all { 0 } else { from.unwrap_or(0) },
            to: if all { 0 } else { to.unwrap_or(0) },
            cidr: cidr.to_string(),
            description: description.filter(|d| !d.is_empty()).map(str::to_string),
        }
    }

    fn permission(&self) -> IpPermission {
        let p = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .from_port(self.from as i32)
            .to_port(self.to as i32);
        if self.cidr.contains(':') {
            p.ipv6_ranges(
                Ipv6Range::builder()
                    .cidr_ipv6(&self.cidr)
                    .set_description(self.description.clone())
                    .build(),
            )
            .build()
        } else {
            p.ip_ranges(
                IpRange::builder()
                    .cidr_ip(&self.cidr)
                    .set_description(self.description.clone())
                    .build(),
            )
            .build()
        }
    }
}

/// The rules of an `ingress` or `egress` attribute.
fn from_attr(v: Option<&Val>) -> BTreeSet<Rule> {
    let Some(Val::List(records)) = v else {
        return BTreeSet::new();
    };
    let mut out = BTreeSet::new();
    for r in records {
        let Val::Map(m) = r else { continue };
        let protocol = s(m, "protocol").unwrap_or_else(|| "tcp".into());
        let description = s(m, "description");
        for cidr in strings(m, "cidr_blocks")
            .into_iter()
            .chain(strings(m, "ipv6_cidr_blocks"))
        {
            out.insert(Rule::new(
                &protocol,
                i(m, "from_port"),
                i(m, "to_port"),
                &cidr,
                description.as_deref(),
            ));
        }
    }
    out
}

/// The rules of AWS's permissions. Rules naming other security groups or prefix lists, which the
/// schema cannot express, are not carbonc's and are left alone.
fn from_aws(perms: &[IpPermission]) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = p.ip_protocol().unwrap_or("-1");
        let (from, to) = (p.from_port().map(i64::from), p.to_port().map(i64::from));
        for r in p.ip_ranges() {
            if let Some(c) = r.cidr_ip() {
                out.insert(Rule::new(protocol, from, to, c, r.description()));
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(c) = r.cidr_ipv6() {
                out.insert(Rule::new(protocol, from, to, c, r.description()));
            }
        }
    }
    out
}

/// Rules as `SecurityGroupRule` records, one per protocol, port range and description.
fn to_attr(rules: &BTreeSet<Rule>) -> Val {
    // (protocol, from, to, description) -> (IPv4 ranges, IPv6 ranges)
    type Key<'a> = (&'a str, i64, i64, &'a Option<String>);
    let mut groups: BTreeMap<Key<'_>, (Vec<Val>, Vec<Val>)> = BTreeMap::new();
    for r in rules {
        let g = groups
            .entry((&r.protocol, r.from, r.to, &r.description))
            .or_default();
        let list = if r.cidr.contains(':') {
            &mut g.1
        } else {
            &mut g.0
        };
        list.push(Val::Str(r.cidr.clone()));
    }
    Val::List(
        groups
            .into_iter()
            .map(|((protocol, from, to, description), (v4, v6))| {
                let mut m = BTreeMap::from([
                    ("protocol".to_string(), Val::Str(protocol.to_string())),
                    ("from_port".to_string(), Val::Int(from)),
                    ("to_port".to_string(), Val::Int(to)),
                    ("cidr_blocks".to_string(), Val::List(v4)),
                    ("ipv6_cidr_blocks".to_string(), Val::List(v6)),
                ]);
                if let Some(d) = description {
                    m.insert("description".into(), Val::Str(d.clone()));
                }
                Val::Map(m)
            })
            .collect(),
    )
}

async fn describe(c: &Client, id: &str) -> Result<Option<SecurityGroup>, ProviderError> {
    let out = c
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .map_err(classify)?;
    Ok(out.security_groups().first().cloned())
}

/// Brings the group's rules to the program's `ingress` and `egress`: revokes the rules AWS has and
/// the program does not, then authorises the missing ones.
pub async fn sync(
    c: &Client,
    id: &str,
    attrs: &BTreeMap<String, Val>,
) -> Result<(), ProviderError> {
    let Some(g) = describe(c, id).await? else {
        return Err(ProviderError::Permanent {
            code: "InvalidGroup.NotFound".into(),
            message: format!("security group {id} does not exist"),
        });
    };
    for egress in [false, true] {
        let (have, want) = if egress {
            (
                from_aws(g.ip_permissions_egress()),
                from_attr(attrs.get("egress")),
            )
        } else {
            (
                from_aws(g.ip_permissions()),
                from_attr(attrs.get("ingress")),
            )
        };
        let revoke: Vec<IpPermission> = have.difference(&want).map(Rule::permission).collect();
        let grant: Vec<IpPermission> = want.difference(&have).map(Rule::permission).collect();
        if !revoke.is_empty() {
            if egress {
                c.revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(classify)?;
            } else {
                c.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
        if !grant.is_empty() {
            if egress {
                c.authorize_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(grant))
                    .send()
                    .await
                    .map_err(classify)?;
            } else {
                c.authorize_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(grant))
                    .send()
                    .await
                    .map_err(classify)?;
            }
        }
    }
    Ok(())
}

/// The rules AWS has, written into `attrs`: the recorded records when they mean the same rules
/// (so a regrouping by AWS is no change), AWS's own otherwise (drift). `None` when the group is
/// gone.
pub async fn read_into(
    c: &Client,
    id: &str,
    attrs: &mut BTreeMap<String, Val>,
) -> Result<Option<()>, ProviderError> {
    let Some(g) = describe(c, id).await? else {
        return Ok(None);
    };
    for (key, v) in [("name", g.group_name()), ("description", g.description())] {
        if let Some(v) = v {
            attrs.insert(key.into(), Val::Str(v.to_string()));
        }
    }
    attrs.insert("tags".into(), crate::network::user_tags(g.tags()));
    for (key, perms) in [
        ("ingress", g.ip_permissions()),
        ("egress", g.ip_permissions_egress()),
    ] {
        let have = from_aws(perms);
        if from_attr(attrs.get(key)) != have {
            attrs.insert(key.into(), to_attr(&have));
        }
    }
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Val {
        Val::Map(BTreeMap::from([
            ("protocol".to_string(), Val::Str(protocol.into())),
            ("from_port".to_string(), Val::Int(from)),
            ("to_port".to_string(), Val::Int(to)),
            (
                "cidr_blocks".to_string(),
                Val::List(cidrs.iter().map(|c| Val::Str(c.to_string())).collect()),
            ),
        ]))
    }

    #[test]
    fn groupings_that_mean_the_same_rules_are_equal() {
        let together = Val::List(vec![record("tcp", 443, 443, &["10.0.0.0/8", "::/0"])]);
        let apart = Val::List(vec![
            record("tcp", 443, 443, &["::/0"]),
            record("tcp", 443, 443, &["10.0.0.0/8"]),
        ]);
        assert_eq!(from_attr(Some(&together)), from_attr(Some(&apart)));
        assert_eq!(from_attr(Some(&together)).len(), 2);
    }

    #[test]
    fn all_traffic_ignores_ports_and_round_trips() {
        let program = Val::List(vec![record("-1", 0, 0, &["0.0.0.0/0"])]);
        let aws = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        let rules = from_aws(&[aws]);
        assert_eq!(rules, from_attr(Some(&program)));
        assert_eq!(from_attr(Some(&to_attr(&rules))), rules);
    }
}
