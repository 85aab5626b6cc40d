//! `carbonc apply`, `plan`, `destroy`, `output` and `state` against the AWS emulator (moto, started
//! by `scripts/emulator`), through the real AWS SDK over HTTP. What exists is checked independently
//! through the AWS API (`tests/emulator/inventory.py`, boto3), not through carbonc's state.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

mod common;
use common::*;

#[test]
fn apply_converges_updates_in_place_and_destroys_everything() {
    let emu = Emulator::start();
    let d = std::env::temp_dir().join(format!("carbonc-apply-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        repo().join("tests/apply/network.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let token = [("CARBON_VAR_token", SECRET)];

    // Apply from nothing.
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 18 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let inv = emu.inventory();
    assert_eq!(inv["vpc@us-east-1"], serde_json::json!(["10.0.0.0/16"]));
    assert_eq!(inv["vpc@eu-west-1"], serde_json::json!(["10.1.0.0/16"]));
    assert_eq!(inv["subnet@eu-west-1"], serde_json::json!(["10.1.1.0/24"]));
    assert_eq!(inv["sg@us-east-1"], serde_json::json!(["db"]));
    assert_eq!(
        inv["routes@eu-west-1"],
        serde_json::json!(["0.0.0.0/0->igw- x1"])
    );
    assert_eq!(
        inv["kms@eu-west-1"],
        serde_json::json!(["data key in eu-west-1 (v1)"])
    );
    assert_eq!(inv["secret@us-east-1"], serde_json::json!(["app/token"]));
    assert_eq!(inv["role"], serde_json::json!(["carbon-apply-test"]));
    assert_eq!(
        inv["attached"],
        serde_json::json!(["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])
    );

    // Nothing left to do.
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // A change to one region updates only that region's key, in place.
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "--var", "note=v2", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("key[eu-west-1] will be updated in-place"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(
        emu.inventory()["kms@eu-west-1"],
        serde_json::json!(["data key in eu-west-1 (v2)"])
    );

    // Outputs and state, without the secret anywhere.
    let r = carbonc(&d, &emu, &["output", "--json", "main.carbon"], &[]);
    assert!(r.stdout.contains("arn:aws:kms:eu-west-1:"), "{}", r.stdout);
    let r = carbonc(&d, &emu, &["output", "main.carbon", "key_arns"], &[]);
    assert!(
        r.stdout.starts_with("[\"arn:aws:kms:us-east-1:"),
        "{}",
        r.stdout
    );
    let r = carbonc(&d, &emu, &["state", "list", "main.carbon"], &[]);
    assert_eq!(r.stdout.lines().count(), 18, "{}", r.stdout);
    let r = carbonc(
        &d,
        &emu,
        &["state", "show", "app_token[us-east-1]", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("(sensitive value)"), "{}", r.stdout);
    assert!(!r.stdout.contains(SECRET));
    // A rename in the state, and back: the plan sees the renamed resource as gone and a new one to
    // create, then nothing to do once it is back.
    let mv = |from: &str, to: &str| {
        let r = carbonc(&d, &emu, &["state", "mv", from, to, "main.carbon"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    mv("vpc[us-east-1]", "old_vpc[us-east-1]");
    let r = carbonc(&d, &emu, &["plan", "main.carbon"], &token);
    assert!(
        r.stdout.contains("# old_vpc[us-east-1] will be destroyed"),
        "{}",
        r.stdout
    );
    mv("old_vpc[us-east-1]", "vpc[us-east-1]");
    let r = carbonc(
        &d,
        &emu,
        &[
            "plan",
            "--detailed-exitcode",
            "--var",
            "note=v2",
            "main.carbon",
        ],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains(SECRET), "the secret is in the state file");

    // Destroy leaves nothing carbon-tagged behind.
    let r = carbonc(
        &d,
        &emu,
        &[
            "destroy",
            "--auto-approve",
            "--var",
            "note=v2",
            "main.carbon",
        ],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 0 added, 0 changed, 18 destroyed."),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("# vpc[eu-west-1] will be destroyed\n"));
    assert!(!r.stdout.contains("no longer in the configuration"));
    let inv = emu.inventory();
    for (k, v) in inv.as_object().unwrap() {
        assert_eq!(v, &serde_json::json!([]), "{k} still has {v}");
    }
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains(SECRET));
    }
    emu.assert_valid_requests();
}

/// The state's record of `address`, if it has one.
fn state_resource(dir: &Path, address: &str) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(".carbon/main.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .cloned()
}

/// An attribute recorded in the state for `address` ("" when there is none).
fn attribute(dir: &Path, address: &str, name: &str) -> String {
    state_resource(dir, address)
        .and_then(|r| r["attributes"][name].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// An attribute of `address` in the state, as recorded (any type).
fn recorded_attribute(dir: &Path, address: &str, name: &str) -> serde_json::Value {
    state_resource(dir, address)
        .map(|r| r["attributes"][name].clone())
        .unwrap_or_default()
}

/// The id recorded in the state for `address`.
fn recorded_id(dir: &Path, address: &str) -> String {
    state_resource(dir, address)
        .and_then(|r| r["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no `{address}` in the state"))
}

#[test]
fn changes_made_outside_carbonc_show_up_after_refresh() {
    let emu = Emulator::start();
    let d = fixture("drift");
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // Behind carbonc's back: a key's description edited, a subnet deleted.
    let key = recorded_id(&d, "key[eu-west-1]");
    emu.call(
        "eu-west-1",
        "kms",
        "update_key_description",
        serde_json::json!({"KeyId": key, "Description": "edited by hand"}),
    );
    let subnet = recorded_id(&d, "subnet[us-east-1]");
    emu.call(
        "us-east-1",
        "ec2",
        "delete_subnet",
        serde_json::json!({"SubnetId": subnet}),
    );
    // ... a private subnet made to give its instances public addresses ...
    let private = recorded_id(&d, "subnet[eu-west-1]");
    emu.call(
        "eu-west-1",
        "ec2",
        "modify_subnet_attribute",
        serde_json::json!({"SubnetId": private, "MapPublicIpOnLaunch": {"Value": true}}),
    );
    // ... and SSH opened to the world on the eu-west-1 database's security group.
    let sg = recorded_id(&d, "db[eu-west-1]");
    emu.call(
        "eu-west-1",
        "ec2",
        "authorize_security_group_ingress",
        serde_json::json!({"GroupId": sg, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
    );

    // Without refresh the state is believed; with it, both show up.
    let r = carbonc(
        &d,
        &emu,
        &[
            "plan",
            "--refresh=false",
            "--detailed-exitcode",
            "main.carbon",
        ],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains(&format!("key[eu-west-1]: Refreshing state... [id={key}]")),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("# key[eu-west-1] will be updated in-place")
            && r.stdout
                .contains("\"edited by hand\" -> \"data key in eu-west-1 (v1)\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("# subnet[us-east-1] will be created"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("# db[eu-west-1] will be updated in-place")
            && r.stdout.lines().any(|l| {
                let l = l.trim();
                l.starts_with("- from_port") && l.ends_with("= 22")
            }),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("# subnet[eu-west-1] will be updated in-place")
            && r.stdout.contains("map_public_ip_on_launch = true -> false"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to add, 3 to change, 0 to destroy."),
        "{}",
        r.stdout
    );

    // `refresh` records it; apply puts things back; then nothing is left to do.
    let r = carbonc(&d, &emu, &["refresh", "main.carbon"], &token);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("4 resource(s) differ"), "{}", r.stdout);
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        emu.inventory()["kms@eu-west-1"],
        serde_json::json!(["data key in eu-west-1 (v1)"])
    );
    assert_eq!(
        emu.inventory()["subnet@us-east-1"],
        serde_json::json!(["10.0.1.0/24"])
    );
    let group = emu.call(
        "eu-west-1",
        "ec2",
        "describe_security_groups",
        serde_json::json!({"GroupIds": [sg]}),
    );
    let ports: Vec<i64> = group["SecurityGroups"][0]["IpPermissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["FromPort"].as_i64())
        .collect();
    assert_eq!(ports, [5432], "SSH is closed again: {group}");
    let subnets = emu.call(
        "eu-west-1",
        "ec2",
        "describe_subnets",
        serde_json::json!({"SubnetIds": [private]}),
    );
    assert_eq!(
        subnets["Subnets"][0]["MapPublicIpOnLaunch"],
        serde_json::json!(false),
        "{subnets}"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// A KMS key policy the program sets is sent on update (PutKeyPolicy) and read back: the same
/// document reformatted is no drift, another one is, and apply puts the program's back.
#[test]
fn a_key_policy_is_applied_and_its_drift_put_back() {
    let emu = Emulator::start();
    let d = fixture("key-policy");
    let token = [("CARBON_VAR_token", SECRET)];
    let account = emu.call(
        "us-east-1",
        "sts",
        "get_caller_identity",
        serde_json::json!({}),
    )["Account"]
        .as_str()
        .unwrap()
        .to_string();
    let policy = |sid: &str| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*",
            }],
        })
    };
    let in_carbon = |p: &serde_json::Value| p.to_string().replace('"', "\\\"");
    let platform = "tags = { team = \"platform\" }";
    edit(
        &d,
        "main.carbon",
        platform,
        &format!(
            "{platform}\n        policy = \"{}\"",
            in_carbon(&policy("v1"))
        ),
    );
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let key = recorded_id(&d, "key[eu-west-1]");
    assert!(
        attribute(&d, "alias[eu-west-1]", "arn").starts_with("arn:aws:kms:eu-west-1:")
            && attribute(&d, "alias[eu-west-1]", "arn").ends_with(":alias/carbon-data"),
        "the alias's ARN is recorded"
    );
    let aws_policy = || -> serde_json::Value {
        let p = emu.call(
            "eu-west-1",
            "kms",
            "get_key_policy",
            serde_json::json!({"KeyId": key, "PolicyName": "default"}),
        );
        serde_json::from_str(p["Policy"].as_str().unwrap()).unwrap()
    };
    assert_eq!(aws_policy(), policy("v1"));

    // A new policy is one PutKeyPolicy per key.
    edit(
        &d,
        "main.carbon",
        &in_carbon(&policy("v1")),
        &in_carbon(&policy("v2")),
    );
    let before = emu.requests().as_array().unwrap().len();
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let requests = emu.requests();
    let puts = requests.as_array().unwrap()[before..]
        .iter()
        .filter(|q| q["operation"] == "PutKeyPolicy")
        .count();
    assert_eq!(puts, 2);
    assert_eq!(aws_policy(), policy("v2"));

    // Behind carbonc's back: the same document pretty-printed is no drift; another one is.
    let put_by_hand = |p: String| {
        emu.call(
            "eu-west-1",
            "kms",
            "put_key_policy",
            serde_json::json!({"KeyId": key, "PolicyName": "default", "Policy": p}),
        );
    };
    put_by_hand(serde_json::to_string_pretty(&policy("v2")).unwrap());
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(
        r.code, 0,
        "a reformatted policy reads as drift:\n{}",
        r.stdout
    );
    put_by_hand(policy("by-hand").to_string());
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("# key[eu-west-1] will be updated in-place")
            && r.stdout.contains("by-hand"),
        "{}",
        r.stdout
    );
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(aws_policy(), policy("v2"));
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    emu.assert_valid_requests();
}

#[test]
fn missing_credentials_are_one_clear_error() {
    let emu = Emulator::start();
    let d = std::env::temp_dir().join(format!("carbonc-apply-nocred-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        repo().join("tests/apply/network.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(["apply", "--auto-approve", "main.carbon"])
        .current_dir(&d)
        .env("CARBON_VAR_token", "x");
    cmd.env("AWS_ENDPOINT_URL", &emu.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    let out = output_within(&mut cmd, deadline());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(err.lines().count() < 10, "a short error, not a dump: {err}");
}

/// The program's `provider_role_arn` is assumed through STS for every call (the emulator's STS
/// answers with the assumed-role identity); without base credentials the error names the role.
#[test]
fn provider_role_arn_is_assumed_for_every_call() {
    let emu = Emulator::start();
    let d = fixture("role");
    std::fs::write(
        d.join("main.carbon"),
        "region use1 { code = \"us-east-1\", role = .primary }\n\
         param provider_role_arn: String = \"arn:aws:iam::123456789012:role/carbonc-deployer\"\n\
         resource aws.kms.Key key @ use1 { description = \"applied as the deployer role\" }\n",
    )
    .unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "Acting as arn:aws:sts::123456789012:assumed-role/carbonc-deployer/carbonc (provider_role_arn)"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(recorded(&d).0.get("aws.kms.Key"), Some(&1));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(["destroy", "--auto-approve", "main.carbon"])
        .current_dir(&d)
        .env("AWS_ENDPOINT_URL", &emu.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    let out = output_within(&mut cmd, deadline());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("arn:aws:iam::123456789012:role/carbonc-deployer")
            && err.contains("provider_role_arn"),
        "{err}"
    );
    assert_eq!(
        recorded(&d).0.get("aws.kms.Key"),
        Some(&1),
        "nothing was lost"
    );
}

/// The resources the state records as created, by type (`aws.ec2.Vpc` -> 2), and how many intents.
fn recorded(dir: &Path) -> (BTreeMap<String, usize>, usize) {
    let text = std::fs::read_to_string(dir.join(".carbon/main.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).expect("the state loads");
    let mut by_type = BTreeMap::new();
    let mut intents = 0;
    for r in state["resources"].as_array().unwrap() {
        if r["status"] == "created" {
            *by_type
                .entry(r["type"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        } else {
            intents += 1;
        }
    }
    (by_type, intents)
}

/// How many of each checked type exist in the emulator, straight from the AWS API.
fn existing(inv: &serde_json::Value) -> BTreeMap<String, usize> {
    let count = |keys: &[&str]| -> usize {
        keys.iter()
            .map(|k| inv[*k].as_array().map_or(0, Vec::len))
            .sum()
    };
    BTreeMap::from([
        (
            "aws.ec2.Vpc".to_string(),
            count(&["vpc@us-east-1", "vpc@eu-west-1"]),
        ),
        (
            "aws.ec2.Subnet".to_string(),
            count(&["subnet@us-east-1", "subnet@eu-west-1"]),
        ),
        (
            "aws.ec2.SecurityGroup".to_string(),
            count(&["sg@us-east-1", "sg@eu-west-1"]),
        ),
        (
            "aws.kms.Key".to_string(),
            count(&["kms@us-east-1", "kms@eu-west-1"]),
        ),
        (
            "aws.secretsmanager.Secret".to_string(),
            count(&["secret@us-east-1", "secret@eu-west-1"]),
        ),
        ("aws.iam.Role".to_string(), count(&["role"])),
    ])
}

/// Starts `carbonc apply` and sends `signal` once it has printed `after` progress lines (a
/// resource starting or finishing): crash points spread over the run by what it has done, not by
/// the clock. Returns whether the signal was sent before the apply finished on its own.
fn interrupt_apply(dir: &Path, emu: &Emulator, signal: &str, after: usize) -> bool {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(["apply", "--auto-approve", "main.carbon"])
        .current_dir(dir)
        .env("CARBON_VAR_token", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in &emu.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("carbonc starts");
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    let mut sent = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.contains("...") || line.contains(" complete after ") {
            seen += 1;
        }
        if seen >= after && !sent {
            let pid = child.id().to_string();
            sent = Command::new("kill")
                .args([signal, &pid])
                .status()
                .is_ok_and(|s| s.success());
            if signal == "-KILL" {
                break;
            }
        }
    }
    child.wait().expect("carbonc ends");
    sent
}

/// kill -9 at many points of an apply, then apply again: the footprint is complete, nothing exists
/// twice, the state loads and agrees with what exists.
#[test]
fn applies_killed_at_many_points_converge_without_duplicates() {
    let emu = Emulator::start();
    let d = fixture("crash");
    let token = [("CARBON_VAR_token", SECRET)];
    // A full apply prints 36 progress lines (18 resources starting and finishing).
    let mut kills = 0;
    for round in 0..16 {
        // Two crashes in a row, at different points, then a recovering apply.
        for k in [1 + (round * 7) % 36, 1 + (round * 13 + 3) % 36] {
            if interrupt_apply(&d, &emu, "-KILL", k) {
                kills += 1;
            }
        }
        let r = carbonc(
            &d,
            &emu,
            &["apply", "--auto-approve", "main.carbon"],
            &token,
        );
        assert_eq!(r.code, 0, "round {round}:\n{}\n{}", r.stdout, r.stderr);
        let inv = emu.inventory();
        let (by_type, intents) = recorded(&d);
        assert_eq!(intents, 0, "round {round}");
        assert_eq!(
            existing(&inv),
            by_type
                .into_iter()
                .filter(|(t, _)| existing(&inv).contains_key(t))
                .collect(),
            "round {round}: the state and AWS disagree\n{inv}\n{}",
            r.stdout
                .lines()
                .filter(|l| !l.starts_with(' '))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(
            inv["any-vpc@us-east-1"],
            serde_json::json!(["10.0.0.0/16"]),
            "round {round}"
        );
        assert_eq!(
            inv["any-vpc@eu-west-1"],
            serde_json::json!(["10.1.0.0/16"]),
            "round {round}"
        );
        assert_eq!(
            existing(&inv).values().sum::<usize>(),
            11,
            "round {round}: {inv}"
        );
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "main.carbon"],
            &token,
        );
        assert_eq!(r.code, 0, "round {round}: not converged\n{}", r.stdout);
        let r = carbonc(
            &d,
            &emu,
            &["destroy", "--auto-approve", "main.carbon"],
            &token,
        );
        assert_eq!(r.code, 0, "round {round}:\n{}\n{}", r.stdout, r.stderr);
    }
    assert!(kills >= 20, "only {kills} applies were killed mid-run");
}

/// An answer lost after AWS acted, for each create of the fixture whose API takes no client token
/// (VPC, subnet, security group, KMS key): the fault proxy forwards the call, AWS makes the
/// resource, and the connection is cut before the answer. carbonc must neither lose the resource
/// (an orphan) nor make a second one: it finds it by its tags and records it.
#[test]
fn a_create_whose_answer_is_lost_is_adopted_not_made_twice() {
    let emu = Emulator::start();
    let token = [("CARBON_VAR_token", SECRET)];
    for op in [
        "ec2:CreateVpc",
        "ec2:CreateSubnet",
        "ec2:CreateSecurityGroup",
        "kms:CreateKey",
    ] {
        let d = fixture(&format!("lost-{}", op.replace(':', "-")));
        let rule = format!("{op} 1");
        let proxy = FaultProxy::start(&emu, &["--lose", &rule]);
        let r = carbonc_with(
            &d,
            &proxy.env,
            &["apply", "--auto-approve", "main.carbon"],
            &token,
        );
        let counts = proxy.finish();
        assert_eq!(counts["lost"], 1, "{op}: the answer was not dropped");
        assert_eq!(r.code, 0, "{op}:\n{}\n{}", r.stdout, r.stderr);
        let inv = emu.inventory();
        let (by_type, intents) = recorded(&d);
        assert_eq!(intents, 0, "{op}");
        assert_eq!(
            existing(&inv).values().sum::<usize>(),
            11,
            "{op}: a duplicate or an orphan: {inv}"
        );
        for (ty, n) in existing(&inv) {
            assert_eq!(
                by_type.get(&ty).copied().unwrap_or(0),
                n,
                "{op}: {ty}: {inv}"
            );
        }
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "main.carbon"],
            &token,
        );
        assert_eq!(r.code, 0, "{op}: not converged\n{}", r.stdout);
        let r = carbonc(
            &d,
            &emu,
            &["destroy", "--auto-approve", "main.carbon"],
            &token,
        );
        assert_eq!(r.code, 0, "{op}:\n{}\n{}", r.stdout, r.stderr);
        assert_eq!(
            existing(&emu.inventory()).values().sum::<usize>(),
            0,
            "{op}"
        );
    }
    emu.assert_valid_requests();
}

/// A same-named resource of someone else's is never adopted. The create hears "already exists"
/// (the first answer lost, the SDK sending the call again), looks for the group by this address's
/// carbon tags, and finds none on the existing one: it is left alone, and the create fails with
/// AWS's "already exists", naming the resource; nothing that needs it is made. The same answer
/// about carbonc's own group, made by the call whose answer was lost, adopts it.
#[test]
fn a_same_named_resource_of_someone_elses_is_not_adopted() {
    let emu = Emulator::start();
    let d = fixture("foreign-subnet-group");
    std::fs::copy(
        repo().join("tests/apply/aurora_standalone.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    // Someone else's subnet group, named as the program names its own.
    let vpc = emu.call(
        "us-east-1",
        "ec2",
        "create_vpc",
        serde_json::json!({"CidrBlock": "10.90.0.0/16"}),
    )["Vpc"]["VpcId"]
        .clone();
    let subnets: Vec<serde_json::Value> = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(i, az)| {
            emu.call(
                "us-east-1",
                "ec2",
                "create_subnet",
                serde_json::json!({"VpcId": vpc, "CidrBlock": format!("10.90.{i}.0/24"), "AvailabilityZone": format!("us-east-1{az}")}),
            )["Subnet"]["SubnetId"]
                .clone()
        })
        .collect();
    let foreign = emu.call(
        "us-east-1",
        "rds",
        "create_db_subnet_group",
        serde_json::json!({
            "DBSubnetGroupName": "carbon-standalone",
            "DBSubnetGroupDescription": "not carbon's",
            "SubnetIds": subnets,
            "Tags": [{"Key": "owner", "Value": "someone-else"}],
        }),
    )["DBSubnetGroup"]["DBSubnetGroupArn"]
        .clone();

    let proxy = FaultProxy::start(&emu, &["--lose", "rds:CreateDBSubnetGroup 1"]);
    let r = carbonc_with(
        &d,
        &proxy.env,
        &["apply", "--auto-approve", "main.carbon"],
        &[("CARBON_VAR_db_password", SECRET)],
    );
    let counts = proxy.finish();
    assert_eq!(counts["lost"], 1, "the answer was not dropped");
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(
        out.contains("subnets") && out.contains("DBSubnetGroupAlreadyExists"),
        "{out}"
    );
    let tags = emu.call(
        "us-east-1",
        "rds",
        "list_tags_for_resource",
        serde_json::json!({"ResourceName": foreign}),
    );
    assert_eq!(
        tags["TagList"],
        serde_json::json!([{"Key": "owner", "Value": "someone-else"}]),
        "the foreign group was taken over"
    );
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let recorded: Vec<&serde_json::Value> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["address"] == "subnets" || r["address"] == "db")
        .filter(|r| r["id"].is_string())
        .collect();
    assert!(recorded.is_empty(), "adopted: {recorded:#?}");
    let clusters = emu.call(
        "us-east-1",
        "rds",
        "describe_db_clusters",
        serde_json::json!({}),
    );
    assert_eq!(clusters["DBClusters"], serde_json::json!([]), "{clusters}");

    // With the foreign group gone, carbonc's own create loses its answer: the SDK sends it again
    // and hears "already exists" about carbonc's own group, which carries this address's tags
    // and is adopted, in the same run.
    emu.call(
        "us-east-1",
        "rds",
        "delete_db_subnet_group",
        serde_json::json!({"DBSubnetGroupName": "carbon-standalone"}),
    );
    let proxy = FaultProxy::start(&emu, &["--lose", "rds:CreateDBSubnetGroup 1"]);
    let r = carbonc_with(
        &d,
        &proxy.env,
        &["apply", "--auto-approve", "main.carbon"],
        &[("CARBON_VAR_db_password", SECRET)],
    );
    let counts = proxy.finish();
    assert_eq!(counts["lost"], 1, "the answer was not dropped");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let groups = emu.call(
        "us-east-1",
        "rds",
        "describe_db_subnet_groups",
        serde_json::json!({"DBSubnetGroupName": "carbon-standalone"}),
    );
    assert_eq!(
        groups["DBSubnetGroups"][0]["DBSubnetGroupDescription"],
        "Managed by carbonc"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[("CARBON_VAR_db_password", SECRET)],
    );
    assert_eq!(r.code, 0, "not converged:\n{}", r.stdout);
    emu.assert_valid_requests();
}

/// Ctrl-C mid-apply: in-flight calls finish, nothing new starts, and the state lists everything
/// that was created.
#[test]
fn an_interrupted_apply_records_everything_it_created() {
    let emu = Emulator::start();
    let d = fixture("sigint");
    assert!(interrupt_apply(&d, &emu, "-INT", 6));
    let (by_type, intents) = recorded(&d);
    let inv = emu.inventory();
    let exists = existing(&inv);
    assert!(
        exists.values().sum::<usize>() < 11,
        "the interrupt stopped nothing: {inv}"
    );
    for (ty, n) in &exists {
        assert_eq!(by_type.get(ty).copied().unwrap_or(0), *n, "{ty}: {inv}");
    }
    assert_eq!(intents, 0);
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(existing(&emu.inventory()).values().sum::<usize>(), 11);
}

/// `tests/emulator/fault_proxy.py` in front of an emulator; stopped (and its fault counts read)
/// by `finish`.
/// Throttling in each protocol's format, 500/503s, connection resets and latency on a quarter of
/// all calls: apply still converges, and so does the next plan (which reads everything again).
#[test]
fn apply_converges_through_throttling_errors_and_resets() {
    let emu = Emulator::start();
    let d = fixture("faults");
    let proxy = FaultProxy::start(
        &emu,
        &[
            "--seed",
            "7",
            "--throttle",
            "0.12",
            "--error",
            "0.08",
            "--reset",
            "0.05",
            "--latency-ms",
            "5",
        ],
    );
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc_with(
        &d,
        &proxy.env,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = carbonc_with(
        &d,
        &proxy.env,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let counts = proxy.finish();
    for kind in ["throttle", "error", "reset"] {
        assert!(
            counts[kind].as_u64().unwrap_or(0) > 0,
            "no {kind} was injected: {counts}"
        );
    }
    let inv = emu.inventory();
    assert_eq!(existing(&inv).values().sum::<usize>(), 11, "{inv}");
    assert_eq!(inv["any-vpc@us-east-1"], serde_json::json!(["10.0.0.0/16"]));
    assert_eq!(inv["any-vpc@eu-west-1"], serde_json::json!(["10.1.0.0/16"]));
}

/// One region's EC2 refuses every call: the error names the resource, the region and the AWS
/// error; everything else is created and recorded.
#[test]
fn a_permanently_failing_endpoint_is_named_and_the_rest_is_kept() {
    let emu = Emulator::start();
    let d = fixture("refused");
    let proxy = FaultProxy::start(&emu, &["--fail", "ec2@eu-west-1"]);
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc_with(
        &d,
        &proxy.env,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    proxy.finish();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("vpc[eu-west-1]")
            && all.contains("in eu-west-1")
            && all.contains("UnauthorizedOperation"),
        "{all}"
    );
    let (by_type, intents) = recorded(&d);
    assert_eq!(intents, 0, "{all}");
    let inv = emu.inventory();
    // us-east-1 entirely, eu-west-1 without its network (and what needs it).
    assert_eq!(by_type.get("aws.ec2.Vpc"), Some(&1), "{by_type:?}");
    assert_eq!(by_type.get("aws.kms.Key"), Some(&2), "{by_type:?}");
    for (ty, n) in existing(&inv) {
        assert_eq!(by_type.get(&ty).copied().unwrap_or(0), n, "{ty}: {inv}");
    }
    assert!(!all.contains(SECRET));
}

/// A VPC made by hand is imported at its address: the plan creates everything else, not it, and
/// after apply there is still one VPC.
#[test]
fn an_imported_resource_is_managed_not_created_again() {
    let emu = Emulator::start();
    let d = fixture("import");
    let token = [("CARBON_VAR_token", SECRET)];
    let made = emu.python(
        "aws_call.py",
        &[
            "us-east-1",
            "ec2",
            "create_vpc",
            r#"{"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "carbon:footprint", "Value": "test"}]}]}"#,
        ],
    );
    let vpc = made["Vpc"]["VpcId"].as_str().expect("a VPC id").to_string();
    let r = carbonc(
        &d,
        &emu,
        &["import", "vpc[us-east-1]", &vpc, "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("vpc[us-east-1]: Import complete [id={vpc}]")),
        "{}",
        r.stdout
    );
    // Its computed attributes are read, as a create would have recorded them.
    assert_eq!(
        attribute(&d, "vpc[us-east-1]", "arn"),
        format!("arn:aws:ec2:us-east-1:123456789012:vpc/{vpc}")
    );
    // Once only; an address the program lacks and an id AWS lacks are clear errors.
    let r = carbonc(
        &d,
        &emu,
        &["import", "vpc[us-east-1]", &vpc, "main.carbon"],
        &token,
    );
    assert!(
        r.code == 1 && r.stderr.contains("already in the state"),
        "{}",
        r.stderr
    );
    let r = carbonc(
        &d,
        &emu,
        &["import", "vcp[us-east-1]", &vpc, "main.carbon"],
        &token,
    );
    assert!(
        r.code == 1 && r.stderr.contains("declares no resource"),
        "{}",
        r.stderr
    );
    let r = carbonc(
        &d,
        &emu,
        &["import", "vpc[eu-west-1]", "vpc-0000", "main.carbon"],
        &token,
    );
    assert!(
        r.code == 1
            && r.stderr
                .contains("no aws.ec2.Vpc with id `vpc-0000` in eu-west-1"),
        "{}",
        r.stderr
    );

    // Managed from now on: read back as AWS has it, so the plan turns on the DNS hostnames the
    // program asks for (CreateVpc leaves them off) instead of creating another VPC.
    let r = carbonc(&d, &emu, &["plan", "main.carbon"], &token);
    assert!(
        r.stdout
            .contains("# vpc[us-east-1] will be updated in-place")
            && r.stdout.contains("enable_dns_hostnames = false -> true"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Plan: 17 to add, 1 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        emu.inventory()["any-vpc@us-east-1"],
        serde_json::json!(["10.0.0.0/16"])
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// Plan in CI, apply what was reviewed: a saved plan applies as is, once, and only against the
/// program, parameters and state it was made from.
#[test]
fn a_saved_plan_applies_once_and_only_as_made() {
    let emu = Emulator::start();
    let d = fixture("saved");
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--out", "reviewed.json", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // Other parameters than the plan's are refused; so is a changed program.
    let r = carbonc(
        &d,
        &emu,
        &["apply", "reviewed.json"],
        &[("CARBON_VAR_token", "other")],
    );
    assert!(
        r.code == 1 && r.stderr.contains("parameters differ"),
        "{}",
        r.stderr
    );
    let original = std::fs::read_to_string(d.join("main.carbon")).unwrap();
    std::fs::write(d.join("main.carbon"), format!("{original}\n# edited\n")).unwrap();
    let r = carbonc(&d, &emu, &["apply", "reviewed.json"], &token);
    assert!(
        r.code == 1 && r.stderr.contains("changed since this plan was made"),
        "{}",
        r.stderr
    );
    std::fs::write(d.join("main.carbon"), &original).unwrap();
    assert_eq!(emu.inventory()["any-vpc@us-east-1"], serde_json::json!([]));

    // As made: applied without a question (stdin is not a terminal and nothing is asked).
    let r = carbonc(&d, &emu, &["apply", "reviewed.json"], &token);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Apply complete! Resources: 18 added"),
        "{}",
        r.stdout
    );
    // Once: the state has moved on.
    let r = carbonc(&d, &emu, &["apply", "reviewed.json"], &token);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("reviewed.json"), "{}", r.stderr);
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

/// `prevent_destroy` holds against `carbonc destroy`, before anything is asked of AWS.
#[test]
fn destroy_refuses_a_protected_resource() {
    use carbonc_state::Val;
    let d = fixture("protected");
    std::fs::write(
        d.join("main.carbon"),
        "region use1 { code = \"us-east-1\", role = .primary }\n\
         resource aws.kms.Key k @ use1 {\n    description = \"k\"\n    lifecycle = { prevent_destroy = true }\n}\n",
    )
    .unwrap();
    let mut state = carbonc_state::State::new(carbonc_state::new_lineage());
    state.serial = 1;
    state.resources.push(carbonc_state::ResourceState {
        address: "k".into(),
        ty: "aws.kms.Key".into(),
        region: Some("us-east-1".into()),
        id: Some("key-1".into()),
        status: carbonc_state::ResourceStatus::Created,
        attributes: BTreeMap::from([
            ("description".to_string(), Val::Str("k".into())),
            ("key_spec".to_string(), Val::Str("SYMMETRIC_DEFAULT".into())),
            ("key_usage".to_string(), Val::Str("ENCRYPT_DECRYPT".into())),
            ("multi_region".to_string(), Val::Bool(false)),
        ]),
        dependencies: vec![],
        token: None,
    });
    let path = d.join(".carbon/main.state.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, carbonc_state::format::to_text(&state)).unwrap();
    let r = carbonc_with(
        &d,
        &BTreeMap::new(),
        &[
            "destroy",
            "--auto-approve",
            "--refresh=false",
            "main.carbon",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("E0118")
            && r.stderr.contains("main.carbon:2")
            && r.stderr.contains("nothing was destroyed"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("Destroying"), "{}", r.stdout);
}

/// EKS in two regions: clusters with a general and a GPU node group each, checked through the EKS
/// API; a change to one region's GPU group updates only that; destroy removes every cluster.
#[test]
fn eks_clusters_and_node_groups_in_two_regions() {
    let emu = Emulator::start();
    let d = fixture("eks");
    std::fs::copy(repo().join("tests/apply/eks.carbon"), d.join("main.carbon")).unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(
        inv["eks@eu-west-1"],
        serde_json::json!([
            "carbon-eu-west-1/general m7i.large x2",
            "carbon-eu-west-1/gpu g5.xlarge x1"
        ]),
        "{inv}"
    );
    assert_eq!(
        inv["eks@us-east-1"],
        serde_json::json!([
            "carbon-us-east-1/general m7i.large x2",
            "carbon-us-east-1/gpu g5.xlarge x1"
        ])
    );
    assert!(r.stdout.contains("endpoints"), "{}", r.stdout);
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // Two GPU nodes in eu-west-1: that node group alone is updated, in place.
    let more = [("CARBON_VAR_gpu_nodes", "2")];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &more);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 1 changed, 0 destroyed.")
            && r.stdout
                .contains("# gpu[eu-west-1] will be updated in-place"),
        "{}",
        r.stdout
    );
    let inv = emu.inventory();
    assert!(
        inv["eks@eu-west-1"]
            .to_string()
            .contains("gpu g5.xlarge x2"),
        "{inv}"
    );
    assert!(
        inv["eks@us-east-1"]
            .to_string()
            .contains("gpu g5.xlarge x1"),
        "{inv}"
    );

    // Kubernetes one minor up in eu-west-1, twice: the cluster (UpdateClusterVersion) and then its
    // node groups (UpdateNodegroupVersion), each followed by DescribeUpdate. The second upgrade is
    // the one EKS refuses unless the node groups were upgraded with the first.
    let mut upgrade = Vec::new();
    for version in ["1.36", "1.37"] {
        upgrade = vec![
            ("CARBON_VAR_gpu_nodes", "2"),
            ("CARBON_VAR_euw1_version", version),
        ];
        let r = carbonc(
            &d,
            &emu,
            &["apply", "--auto-approve", "main.carbon"],
            &upgrade,
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains("Resources: 0 added, 3 changed, 0 destroyed.")
                && r.stdout
                    .contains("# api[eu-west-1] will be updated in-place")
                && r.stdout
                    .contains("# general[eu-west-1] will be updated in-place"),
            "{}",
            r.stdout
        );
        let inv = emu.inventory();
        assert_eq!(
            inv["eks_clusters@eu-west-1"],
            serde_json::json!([format!("carbon-eu-west-1 {version} ACTIVE")])
        );
        assert_eq!(
            inv["eks_clusters@us-east-1"],
            serde_json::json!(["carbon-us-east-1 1.35 ACTIVE"])
        );
        let groups = emu.call(
            "eu-west-1",
            "eks",
            "describe_nodegroup",
            serde_json::json!({ "clusterName": "carbon-eu-west-1", "nodegroupName": "gpu" }),
        );
        assert_eq!(groups["nodegroup"]["version"], version, "{groups}");
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "main.carbon"],
            &upgrade,
        );
        assert_eq!(
            r.code, 0,
            "the plan after the upgrade has changes:\n{}",
            r.stdout
        );
    }
    // Skipping a minor version is refused before any call; the error names the resource and
    // says what to do, and the cluster stays as it was.
    let skip = [
        ("CARBON_VAR_gpu_nodes", "2"),
        ("CARBON_VAR_euw1_version", "1.39"),
    ];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &skip);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("api[eu-west-1]")
            && r.stderr
                .contains("EKS upgrades one minor version at a time: set `version` to 1.38"),
        "{}",
        r.stderr
    );
    assert_eq!(
        emu.inventory()["eks_clusters@eu-west-1"],
        serde_json::json!(["carbon-eu-west-1 1.37 ACTIVE"])
    );

    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &upgrade,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(inv["eks@eu-west-1"], serde_json::json!([]));
    assert_eq!(inv["eks@us-east-1"], serde_json::json!([]));
    emu.assert_valid_requests();
}

/// What a regional cluster needs before services run on it, in two regions: add-ons, the CI
/// deployer's access entry with cluster admin, a Pod Identity association. Checked through the
/// EKS API; turning network-policy enforcement on updates the VPC CNI add-on of each region in
/// place (an AddonUpdate followed by its id); destroy removes them all, dependents first.
#[test]
fn eks_add_ons_access_entries_and_pod_identity_in_two_regions() {
    let emu = Emulator::start();
    let d = fixture("eks-access");
    std::fs::copy(
        repo().join("tests/apply/eks_access.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    for region in ["us-east-1", "eu-west-1"] {
        let cluster = format!("carbon-access-{region}");
        assert_eq!(
            inv[format!("eks_addons@{region}")],
            serde_json::json!([
                format!("{cluster}/eks-pod-identity-agent v1.3.8-eksbuild.2 ACTIVE -"),
                format!(
                    "{cluster}/vpc-cni v1.20.4-eksbuild.2 ACTIVE {{\"enableNetworkPolicy\":\"false\"}}"
                ),
            ]),
            "{inv}"
        );
        // Beside the deployer's, the entry EKS gives the cluster's creator (the emulator's
        // operator user, whose key carbonc uses).
        assert_eq!(
            inv[format!("eks_access@{region}")],
            serde_json::json!([
                format!(
                    "{cluster} carbon-ci-deployer deployers AmazonEKSClusterAdminPolicy:cluster"
                ),
                format!("{cluster} carbonc-operator - AmazonEKSClusterAdminPolicy:cluster"),
            ]),
            "{inv}"
        );
        assert_eq!(
            inv[format!("eks_pod_identity@{region}")],
            serde_json::json!([format!("{cluster} api/api carbon-api-pods")]),
            "{inv}"
        );
        let c = emu.call(
            region,
            "eks",
            "describe_cluster",
            serde_json::json!({ "name": cluster }),
        );
        assert_eq!(
            c["cluster"]["accessConfig"]["authenticationMode"], "API_AND_CONFIG_MAP",
            "{c}"
        );
    }
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // Network policies enforced, and the deployer in another group: the add-on and the entry are
    // updated in place in each region, nothing else.
    let on = [
        ("CARBON_VAR_network_policy", "true"),
        ("CARBON_VAR_deployer_group", "platform"),
    ];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &on);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 4 changed, 0 destroyed.")
            && r.stdout
                .contains("# vpc_cni[eu-west-1] will be updated in-place"),
        "{}",
        r.stdout
    );
    let inv = emu.inventory();
    assert!(
        inv["eks_addons@eu-west-1"]
            .to_string()
            .contains(r#"{\"enableNetworkPolicy\":\"true\"}"#)
            && inv["eks_access@us-east-1"]
                .to_string()
                .contains("carbon-ci-deployer platform "),
        "{inv}"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &on,
    );
    assert_eq!(
        r.code, 0,
        "the plan after the update has changes:\n{}",
        r.stdout
    );

    // Access entries only: the clusters' authentication mode changes in place (an
    // AccessConfigUpdate each); going back is refused before any call, and nothing changes.
    let api_only = [
        ("CARBON_VAR_network_policy", "true"),
        ("CARBON_VAR_deployer_group", "platform"),
        ("CARBON_VAR_api_only", "true"),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &api_only,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 2 changed, 0 destroyed.")
            && r.stdout
                .contains("# api[us-east-1] will be updated in-place"),
        "{}",
        r.stdout
    );
    let mode = |region: &str| {
        emu.call(
            region,
            "eks",
            "describe_cluster",
            serde_json::json!({ "name": format!("carbon-access-{region}") }),
        )["cluster"]["accessConfig"]["authenticationMode"]
            .clone()
    };
    assert_eq!(mode("eu-west-1"), "API");
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &on);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("api[eu-west-1]")
            && r.stderr
                .contains("the authentication mode cannot go back from API to API_AND_CONFIG_MAP"),
        "{}",
        r.stderr
    );
    assert_eq!(mode("eu-west-1"), "API");

    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &api_only,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            inv[format!("eks_clusters@{region}")],
            serde_json::json!([]),
            "{inv}"
        );
        assert_eq!(
            inv[format!("eks_addons@{region}")],
            serde_json::json!([]),
            "{inv}"
        );
    }
    emu.assert_valid_requests();
}

/// An EKS update that AWS runs and then reports Failed (the cluster ends ACTIVE all the same):
/// carbonc follows the update by its id, names AWS's reasons, and does not record the new
/// version, so the next plan still shows the change.
#[test]
fn a_failed_eks_update_is_an_error_and_the_change_stays_planned() {
    let emu = Emulator::start_with(&[("CARBONC_EMULATOR_FAIL_EKS_UPDATES", "carbon-eu-west-1")]);
    let d = fixture("eks-failed-update");
    std::fs::copy(repo().join("tests/apply/eks.carbon"), d.join("main.carbon")).unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let upgrade = [("CARBON_VAR_euw1_version", "1.36")];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &upgrade,
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("api[eu-west-1]")
            && r.stderr.contains("update")
            && r.stderr.contains("is Failed")
            && r.stderr.contains("Unknown: the emulator fails updates"),
        "{}",
        r.stderr
    );
    assert_eq!(
        emu.inventory()["eks_clusters@eu-west-1"],
        serde_json::json!(["carbon-eu-west-1 1.35 ACTIVE"])
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &upgrade,
    );
    assert_eq!(
        r.code, 2,
        "the failed change is still planned:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"1.35\" -> \"1.36\""), "{}", r.stdout);
}

/// Route 53 latency records with health checks, checked through the Route 53 API; a TTL change
/// updates the records in place; destroy removes zone, records and checks.
#[test]
fn route53_latency_records_with_health_checks() {
    let emu = Emulator::start();
    let d = fixture("dns");
    std::fs::copy(repo().join("tests/apply/dns.carbon"), d.join("main.carbon")).unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(
        inv["route53"],
        serde_json::json!([
            "api.carbon-test.example. A eu-west-1 ttl=60 checked=True",
            "api.carbon-test.example. A us-east-1 ttl=60 checked=True"
        ]),
        "{inv}"
    );
    assert_eq!(
        inv["health_checks"],
        serde_json::json!([
            "api-eu-west-1.carbon-test.example",
            "api-us-east-1.carbon-test.example"
        ])
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &[("CARBON_VAR_ttl", "300")],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 2 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert!(emu.inventory()["route53"].to_string().contains("ttl=300"));

    // A forces-new change of a create-before-destroy type: new health checks first, then the
    // records moved to them, then the old ones deleted (as deposed objects).
    let before = emu.requests().as_array().unwrap().len();
    let vars = [("CARBON_VAR_ttl", "300"), ("CARBON_VAR_interval", "10")];
    let r = carbonc(&d, &emu, &["plan", "main.carbon"], &vars);
    assert!(
        r.stdout
            .contains("must be replaced (the new one is created first"),
        "{}",
        r.stdout
    );
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 2 added, 2 changed, 2 destroyed."),
        "{}",
        r.stdout
    );
    let ops: Vec<String> = emu.requests().as_array().unwrap()[before..]
        .iter()
        .map(|q| q["operation"].as_str().unwrap_or("").to_string())
        .filter(|o| {
            [
                "CreateHealthCheck",
                "ChangeResourceRecordSets",
                "DeleteHealthCheck",
            ]
            .contains(&o.as_str())
        })
        .collect();
    let last = |op: &str| ops.iter().rposition(|o| o == op).unwrap();
    let first = |op: &str| ops.iter().position(|o| o == op).unwrap();
    assert!(
        last("CreateHealthCheck") < first("ChangeResourceRecordSets")
            && last("ChangeResourceRecordSets") < first("DeleteHealthCheck"),
        "{ops:?}"
    );
    assert_eq!(ops.iter().filter(|o| *o == "DeleteHealthCheck").count(), 2);
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains("deposed"), "{state}");
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &vars,
    );
    assert_eq!(
        r.code, 0,
        "the plan after the replacement has changes:\n{}",
        r.stdout
    );
    let checks = emu.call(
        "us-east-1",
        "route53",
        "list_health_checks",
        serde_json::json!({}),
    );
    let intervals: Vec<i64> = checks["HealthChecks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["HealthCheckConfig"]["RequestInterval"].as_i64().unwrap())
        .collect();
    assert_eq!(intervals, [10, 10], "{checks}");

    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(inv["route53"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["health_checks"], serde_json::json!([]), "{inv}");
    emu.assert_valid_requests();
}

/// An Aurora global database across two regions, checked through the RDS API: one writer, one
/// secondary, each encrypted with its own region's key; the secondary waits for the writer.
#[test]
fn aurora_global_database_in_two_regions() {
    let emu = Emulator::start();
    let d = fixture("aurora");
    std::fs::copy(
        repo().join("tests/apply/aurora.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let pw = [("CARBON_VAR_db_password", SECRET)];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &pw);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(
        inv["aurora_global"],
        serde_json::json!(["carbon-test: eu-west-1, us-east-1 writer"]),
        "{inv}"
    );
    assert_eq!(
        inv["aurora@us-east-1"],
        serde_json::json!(["carbon-test-use1 kms=us-east-1 instances=1"]),
        "{inv}"
    );
    assert_eq!(
        inv["aurora@eu-west-1"],
        serde_json::json!(["carbon-test-euw1 kms=eu-west-1 instances=1"]),
        "{inv}"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &pw,
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains(SECRET));

    let r = carbonc(&d, &emu, &["destroy", "--auto-approve", "main.carbon"], &pw);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(inv["aurora_global"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["aurora@eu-west-1"], serde_json::json!([]), "{inv}");
    emu.assert_valid_requests();
}

/// An Aurora cluster outside a global database hands its master password to RDS (Secrets
/// Manager) and takes it back: each direction is one ModifyDBCluster that AWS accepts (no
/// password with management on, a password with it off).
#[test]
fn an_aurora_cluster_hands_its_master_password_to_rds_and_back() {
    let emu = Emulator::start();
    let d = fixture("aurora-standalone");
    std::fs::copy(
        repo().join("tests/apply/aurora_standalone.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let secret_of = || {
        let c = emu.call(
            "us-east-1",
            "rds",
            "describe_db_clusters",
            serde_json::json!({"DBClusterIdentifier": "carbon-standalone"}),
        );
        c["DBClusters"][0]["MasterUserSecret"]["SecretArn"].clone()
    };
    for (managed, expect_password) in [
        ("false", None),
        ("true", Some(false)),
        ("false", Some(true)),
    ] {
        let vars = [
            ("CARBON_VAR_db_password", SECRET),
            ("CARBON_VAR_managed", managed),
        ];
        let before = emu.requests().as_array().unwrap().len();
        let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &vars);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(
            secret_of().is_string(),
            managed == "true",
            "managed = {managed}"
        );
        if let Some(with_password) = expect_password {
            let requests = emu.requests();
            let modify: Vec<&serde_json::Value> = requests.as_array().unwrap()[before..]
                .iter()
                .filter(|q| q["operation"] == "ModifyDBCluster")
                .collect();
            assert_eq!(modify.len(), 1, "{modify:#?}");
            let input = &modify[0]["input"];
            assert_eq!(
                input["ManageMasterUserPassword"],
                managed == "true",
                "{input}"
            );
            assert_eq!(
                input["MasterUserPassword"].is_string(),
                with_password,
                "{input}"
            );
        }
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "main.carbon"],
            &vars,
        );
        assert_eq!(
            r.code, 0,
            "the plan after the apply has changes:\n{}",
            r.stdout
        );
    }
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains(SECRET));
    let vars = [("CARBON_VAR_db_password", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    emu.assert_valid_requests();
}

/// The edge's WAF allowlist and web ACL (CloudFront scope, so in us-east-1), and an ACM
/// certificate looked up by ARN, checked through the WAF API; the allowlist is updated in place.
#[test]
fn cloudfront_failover_behind_waf_with_a_certificate_lookup() {
    let emu = Emulator::start();
    let d = fixture("edge");
    std::fs::copy(
        repo().join("tests/apply/edge.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let cert = emu.python(
        "aws_call.py",
        &[
            "us-east-1",
            "acm",
            "request_certificate",
            r#"{"DomainName": "www.carbon-test.example"}"#,
        ],
    );
    let arn = cert["CertificateArn"].as_str().expect("an ARN").to_string();
    let var = [("CARBON_VAR_certificate_arn", arn.as_str())];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &var);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("www.carbon-test.example"), "{}", r.stdout);
    let inv = emu.inventory();
    assert_eq!(
        inv["waf_ip_sets"],
        serde_json::json!([
            "carbon-test-abusers: 192.0.2.0/24",
            "carbon-test-offices: 203.0.113.0/24"
        ]),
        "{inv}"
    );
    assert_eq!(
        inv["waf_acls"],
        serde_json::json!(["carbon-test-edge: blocklist,allow-offices"]),
        "{inv}"
    );
    assert_eq!(
        inv["waf_rule_groups"],
        serde_json::json!(["carbon-test-blocklist: block-abusers"]),
        "{inv}"
    );
    let alb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/carbon-test-api/50dc6c495c0c9188";
    let attached = emu.call(
        "eu-west-1",
        "wafv2",
        "get_web_acl_for_resource",
        serde_json::json!({"ResourceArn": alb}),
    );
    assert_eq!(attached["WebACL"]["Name"], "carbon-test-api", "{attached}");
    assert_eq!(
        inv["cloudfront"],
        serde_json::json!(["carbon test: 2 origins, groups api, target api, waf yes"]),
        "{inv}"
    );
    assert!(r.stdout.contains("cloudfront.net"), "{}", r.stdout);
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &var,
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    let r = carbonc(
        &d,
        &emu,
        &[
            "apply",
            "--auto-approve",
            "--var",
            "allowlist=[\"203.0.113.0/24\", \"198.51.100.0/24\"]",
            "main.carbon",
        ],
        &var,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(
        emu.inventory()["waf_ip_sets"],
        serde_json::json!([
            "carbon-test-abusers: 192.0.2.0/24",
            "carbon-test-offices: 198.51.100.0/24,203.0.113.0/24"
        ])
    );

    // A certificate that does not exist is an error that names the lookup.
    let missing = format!(
        "{}certificate/00000000-0000-4000-8000-000000000000",
        arn.split("certificate/").next().unwrap_or_default()
    );
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &[("CARBON_VAR_certificate_arn", missing.as_str())],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("cert: FAILED"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );

    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &var,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(inv["waf_ip_sets"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["waf_acls"], serde_json::json!([]), "{inv}");
    assert_eq!(inv["waf_rule_groups"], serde_json::json!([]), "{inv}");
    assert_eq!(
        inv["waf_regional_acls@eu-west-1"],
        serde_json::json!([]),
        "{inv}"
    );
    assert_eq!(inv["cloudfront"], serde_json::json!([]), "{inv}");
    let attached = emu.call(
        "eu-west-1",
        "wafv2",
        "get_web_acl_for_resource",
        serde_json::json!({"ResourceArn": alb}),
    );
    assert!(attached["WebACL"].is_null(), "{attached}");
    emu.assert_valid_requests();
}

/// A Redis Global Datastore across two regions (emulated by a plugin: moto has none), checked
/// through the ElastiCache API; destroy takes the secondary out before deleting anything.
#[test]
fn redis_global_datastore_in_two_regions() {
    let emu = Emulator::start();
    let d = fixture("redis");
    std::fs::copy(
        repo().join("tests/apply/redis.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let token = [("CARBON_VAR_auth_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(
        inv["redis_global"],
        serde_json::json!([
            "ldgnf-carbon-test: carbon-test-use1@us-east-1 PRIMARY, carbon-test-euw1@eu-west-1 SECONDARY"
        ]),
        "{inv}"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains(SECRET));

    // Day two: a third shard for every member, a second replica in eu-west-1, a new AUTH token,
    // a cluster-mode parameter group for the datastore; then back to two shards and one replica.
    let shape = |region: &str, id: &str| -> Vec<usize> {
        let g = emu.call(
            region,
            "elasticache",
            "describe_replication_groups",
            serde_json::json!({"ReplicationGroupId": id}),
        );
        g["ReplicationGroups"][0]["NodeGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["NodeGroupMembers"].as_array().unwrap().len())
            .collect()
    };
    let new_token = "an-even-longer-auth-token-0002";
    let rotated = [("CARBON_VAR_auth_token", new_token)];
    for (shards, replicas, ops) in [
        (
            "3",
            "2",
            [
                "IncreaseNodeGroupsInGlobalReplicationGroup",
                "IncreaseReplicaCount",
            ],
        ),
        (
            "2",
            "1",
            [
                "DecreaseNodeGroupsInGlobalReplicationGroup",
                "DecreaseReplicaCount",
            ],
        ),
    ] {
        let text = std::fs::read_to_string(repo().join("tests/apply/redis.carbon")).unwrap();
        let text = text
            .replace(
                "num_node_groups = 2\n    auth_token",
                "num_node_groups = 2\n    parameter_group_name = \"default.redis7.cluster.on\"\n    auth_token",
            )
            .replace(
                "num_node_groups = 2",
                &format!("num_node_groups = {shards}"),
            )
            .replace(
                "replicas_per_node_group = 1",
                &format!("replicas_per_node_group = {replicas}"),
            );
        std::fs::write(d.join("main.carbon"), text).unwrap();
        let before = emu.requests().as_array().unwrap().len();
        let r = carbonc(
            &d,
            &emu,
            &["apply", "--auto-approve", "main.carbon"],
            &rotated,
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let requests = emu.requests();
        let sent: Vec<&serde_json::Value> = requests.as_array().unwrap()[before..].iter().collect();
        for op in ops {
            let n = sent.iter().filter(|q| q["operation"] == op).count();
            assert_eq!(n, 1, "{op} sent {n} times: {sent:#?}");
        }
        let n: usize = shards.parse().unwrap();
        let per_shard: usize = replicas.parse::<usize>().unwrap() + 1;
        assert_eq!(shape("us-east-1", "carbon-test-use1"), vec![2; n]);
        assert_eq!(shape("eu-west-1", "carbon-test-euw1"), vec![per_shard; n]);
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "main.carbon"],
            &rotated,
        );
        assert_eq!(
            r.code, 0,
            "the plan after the update has changes:\n{}",
            r.stdout
        );
    }
    // The token changed once, on the primary, and the old one stays valid until clients move.
    let requests = emu.requests();
    let tokens: Vec<&serde_json::Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| {
            q["operation"] == "ModifyReplicationGroup" && q["input"]["AuthToken"].is_string()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    assert_eq!(tokens[0]["input"]["ReplicationGroupId"], "carbon-test-use1");
    assert_eq!(tokens[0]["input"]["AuthTokenUpdateStrategy"], "ROTATE");
    // The parameter group is the datastore's: sent once, through ModifyGlobalReplicationGroup.
    let groups: Vec<&serde_json::Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["input"]["CacheParameterGroupName"].is_string())
        .collect();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(groups[0]["operation"], "ModifyGlobalReplicationGroup");
    let state = std::fs::read_to_string(d.join(".carbon/main.state.json")).unwrap();
    assert!(!state.contains(new_token));
    let token = rotated;

    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    for k in [
        "redis_global",
        "redis@us-east-1",
        "redis@eu-west-1",
        "cache_subnets@eu-west-1",
    ] {
        assert_eq!(inv[k], serde_json::json!([]), "{k}: {inv}");
    }
    emu.assert_valid_requests();
}

/// Creates the Lambda function `carbon-rotate-db` that rotation calls (the emulator runs it
/// without Docker); returns its ARN.
fn rotation_lambda(emu: &Emulator) -> String {
    rotation_lambda_in(emu, "us-east-1")
}

/// The rotation function `carbon-rotate-db` in `region`, with its role (made once).
fn rotation_lambda_in(emu: &Emulator, region: &str) -> String {
    let roles = emu.python("aws_call.py", &["us-east-1", "iam", "list_roles", "{}"]);
    if !roles.to_string().contains("carbon-rotator") {
        emu.call(
            "us-east-1",
            "iam",
            "create_role",
            serde_json::json!({"RoleName": "carbon-rotator", "AssumeRolePolicyDocument": "{}"}),
        );
    }
    let made = emu.python(
        "aws_call.py",
        &[
            region,
            "lambda",
            "create_function",
            &serde_json::json!({
                "FunctionName": "carbon-rotate-db",
                "Runtime": "python3.12",
                "Role": "arn:aws:iam::123456789012:role/carbon-rotator",
                "Handler": "index.handler",
                "Code": {"ZipFile": {"$zip": {"index.py": "def handler(event, context):\n    return {}\n"}}},
            })
            .to_string(),
        ],
    );
    made["FunctionArn"]
        .as_str()
        .expect("a function ARN")
        .to_string()
}

/// The footprints of other sizes, `examples/two_regions.carbon` (us-west-2 writes, eu-central-1
/// reads; windows on different days) and `examples/four_regions.carbon`: each checks clean under
/// the default availability (all regions but one), simulates without a single point of failure,
/// applies, plans nothing more, and destroys to nothing.
#[test]
fn the_two_and_four_region_examples_apply_and_destroy() {
    let emu = Emulator::start();
    // The regional API load balancers both examples look up, once per region.
    emu.python(
        "load_balancers.py",
        &[
            "carbon-api",
            "us-west-2",
            "eu-central-1",
            "us-east-1",
            "eu-west-1",
            "ap-northeast-1",
        ],
    );
    for (name, writer, regions, resources) in [
        (
            "two_regions",
            "us-west-2",
            &["us-west-2", "eu-central-1"][..],
            25,
        ),
        (
            "four_regions",
            "us-east-1",
            &["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"][..],
            45,
        ),
    ] {
        let d = fixture(name);
        let file = format!("{name}.carbon");
        for f in [file.as_str(), "modules/aurora_global.carbon"] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::copy(repo().join("examples").join(f), d.join(f)).unwrap();
        }
        rotation_lambda_in(&emu, writer);
        let vars = [
            ("CARBON_VAR_db_master_password", SECRET),
            ("CARBON_VAR_db_deletion_protection", "false"),
        ];
        let r = carbonc(&d, &emu, &["check", &file], &vars);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{name}");
        let r = carbonc(&d, &emu, &["simulate", &file], &vars);
        assert_eq!(r.code, 0, "{name}: {}", r.stdout);
        assert!(
            r.stdout
                .contains("No single region is a single point of failure.")
        );
        let r = carbonc(&d, &emu, &["apply", "--auto-approve", &file], &vars);
        assert_eq!(r.code, 0, "{name}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains(&format!("Apply complete! Resources: {resources} added")),
            "{name}: {}",
            r.stdout
        );
        let inv = emu.python("inventory.py", regions);
        let global = inv["aurora_global"][0].as_str().unwrap_or_default();
        assert!(
            global.contains(&format!("{writer} writer")),
            "{name}: {global}"
        );
        for region in regions {
            assert!(global.contains(region), "{name}: {region} not in {global}");
            let records = inv["route53"].to_string();
            assert!(
                records.contains(&format!("CNAME {region} ttl=60 checked=True")),
                "{name}: {records}"
            );
        }
        let r = carbonc(&d, &emu, &["plan", "--detailed-exitcode", &file], &vars);
        assert_eq!(
            r.code, 0,
            "{name}: the second plan has changes:\n{}",
            r.stdout
        );
        let r = carbonc(&d, &emu, &["destroy", "--auto-approve", &file], &vars);
        assert_eq!(r.code, 0, "{name}: {}\n{}", r.stdout, r.stderr);
        let inv = emu.python("inventory.py", regions);
        assert_eq!(inv["aurora_global"], serde_json::json!([]), "{name}: {inv}");
    }
    emu.assert_valid_requests();
}

/// The whole multi-region footprint, `examples/global.carbon`, applied to the emulator and checked
/// through the AWS APIs: EKS with GPU node groups in three regions, the Aurora global database with
/// one writer and two secondaries on their own regions' keys, Route53 latency records with health
/// checks, CloudFront with its origin group behind WAF, the Redis Global Datastore. A second plan
/// has nothing to do.
/// Rewrites `file` of the footprint copied into `d`: `from` (which must be there) becomes `to`.
fn edit(d: &Path, file: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(d.join(file)).unwrap();
    assert!(text.contains(from), "{file} no longer contains {from:?}");
    std::fs::write(d.join(file), text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_global_footprint_applies_and_converges() {
    let emu = Emulator::start();
    let d = fixture("global");
    for f in [
        "global.carbon",
        "modules/eks.carbon",
        "modules/aurora_global.carbon",
    ] {
        std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
        std::fs::copy(repo().join("examples").join(f), d.join(f)).unwrap();
    }
    copy_dir(&repo().join("examples/charts/api"), &d.join("charts/api"));
    // First without the secret's ap-southeast-1 replica: the update below adds it.
    edit(
        &d,
        "global.carbon",
        "replica_regions = [euw1, apse1]",
        "replica_regions = [euw1]",
    );
    rotation_lambda(&emu);
    // The regional API load balancers the footprint looks up (EKS's controller makes them).
    emu.python(
        "load_balancers.py",
        &["carbon-api", "us-east-1", "eu-west-1", "ap-southeast-1"],
    );
    let cert = emu.python(
        "aws_call.py",
        &[
            "us-east-1",
            "acm",
            "request_certificate",
            r#"{"DomainName": "www.example.com"}"#,
        ],
    );
    let arn = cert["CertificateArn"].as_str().expect("an ARN").to_string();
    let vars = [
        ("CARBON_VAR_db_master_password", SECRET),
        ("CARBON_VAR_acm_certificate_arn", arn.as_str()),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "global.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Apply complete! Resources: 190 added"),
        "{}",
        r.stdout
    );
    // The API service runs in each region (read through the cluster's Kubernetes API, with a
    // token of the test's own as the role that made the clusters), wired to its own region's
    // cache.
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        let dep = emu.python(
            "../kube/kube_get.py",
            &[
                region,
                &format!("carbon-{region}"),
                "/apis/apps/v1/namespaces/api/deployments/api",
                // The footprint's `provider_role_arn`, which made the clusters.
                "arn:aws:iam::123456789012:role/carbonc-deployer",
            ],
        );
        let env = dep["body"]["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join(".carbon/global.state.json")).unwrap(),
        )
        .unwrap();
        let cache = state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == format!("cache[{region}]"))
            .and_then(|r| r["attributes"]["primary_endpoint"].as_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            !cache.is_empty()
                && env.contains(&format!(r#"{{"name":"REDIS_HOST","value":"{cache}"}}"#))
                && env.contains(&format!(r#"{{"name":"AWS_REGION","value":"{region}"}}"#)),
            "{dep}"
        );
        assert_eq!(dep["body"]["status"]["availableReplicas"], 2, "{dep}");
        // ClickHouse runs there too: every server and Keeper node ready, on volumes under the
        // region's data key.
        let sets = emu.python(
            "../kube/kube_get.py",
            &[
                region,
                &format!("carbon-{region}"),
                "/apis/apps/v1/namespaces/events/statefulsets",
                "arn:aws:iam::123456789012:role/carbonc-deployer",
            ],
        );
        let ready: Vec<(String, i64)> = sets["body"]["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|s| {
                (
                    s["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    s["status"]["readyReplicas"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            ready,
            [
                "events-01-1",
                "events-01-2",
                "events-keeper-1",
                "events-keeper-2",
                "events-keeper-3"
            ]
            .map(|n| (n.to_string(), 1)),
            "{sets}"
        );
    }
    // The rotated master-user secret is the JSON document AWS's RDS rotation functions read,
    // pointing at the global database's writer endpoint (review finding m12). As sent: the
    // emulator's rotation, whose function does nothing, leaves no current value to read.
    let requests = emu.requests();
    let created = requests
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["operation"] == "CreateSecret" && q["input"]["Name"] == "carbon/db/master")
        .expect("the secret was created");
    let doc: serde_json::Value =
        serde_json::from_str(created["input"]["SecretString"].as_str().unwrap()).unwrap();
    let global = emu.call(
        "us-east-1",
        "rds",
        "describe_global_clusters",
        serde_json::json!({ "GlobalClusterIdentifier": "carbon-global" }),
    );
    assert_eq!(doc["engine"], "postgres", "{doc}");
    assert_eq!(doc["username"], "carbon_admin");
    assert_eq!(doc["password"], SECRET);
    assert_eq!(
        doc["host"], global["GlobalClusters"][0]["Endpoint"],
        "{global}"
    );
    let inv = emu.python(
        "inventory.py",
        &["us-east-1", "eu-west-1", "ap-southeast-1"],
    );
    // Every kind of thing the inventory lists exists in every region (so that its being empty
    // after destroy means something).
    let missing: Vec<&String> = inv
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| *v == &serde_json::json!([]))
        .map(|(k, _)| k)
        .collect();
    // The one secret lives in us-east-1, replicated to eu-west-1 by Secrets Manager (not declared
    // per region); the footprint's WAF is CloudFront's (no regional web ACLs, no rule groups).
    assert_eq!(
        missing,
        [
            "secret@ap-southeast-1",
            "waf_regional_acls@ap-southeast-1",
            "waf_regional_acls@eu-west-1",
            "waf_regional_acls@us-east-1",
            "waf_rule_groups"
        ],
        "not created"
    );
    // The observability tier, as CloudWatch lists it: every alarm in the region its metric is
    // published in (the health checks' and the edge's in us-east-1, each secondary's replication
    // lag in its own region), notifying that region's topic.
    let alarms = |region: &str| inv[format!("alarms@{region}")].clone();
    assert_eq!(
        alarms("us-east-1"),
        serde_json::json!([
            "carbon-api-ap-southeast-1-probe-failed: Carbon/Canary/Success CanaryName=carbon-api-ap-southeast-1-from-us-east-1 -> us-east-1",
            "carbon-api-down-everywhere: ALARM( carbon-api-unhealthy-us-east-1 ) AND ALARM( carbon-api-unhealthy-eu-west-1 ) AND ALARM( carbon-api-unhealthy-ap-southeast-1 ) -> us-east-1",
            "carbon-api-eu-west-1-probe-failed: Carbon/Canary/Success CanaryName=carbon-api-eu-west-1-from-us-east-1 -> us-east-1",
            "carbon-api-slow-ap-southeast-1: AWS/Route53/TimeToFirstByte HealthCheckId=* -> us-east-1",
            "carbon-api-slow-eu-west-1: AWS/Route53/TimeToFirstByte HealthCheckId=* -> us-east-1",
            "carbon-api-slow-us-east-1: AWS/Route53/TimeToFirstByte HealthCheckId=* -> us-east-1",
            "carbon-api-unhealthy-ap-southeast-1: AWS/Route53/HealthCheckStatus HealthCheckId=* -> us-east-1",
            "carbon-api-unhealthy-eu-west-1: AWS/Route53/HealthCheckStatus HealthCheckId=* -> us-east-1",
            "carbon-api-unhealthy-us-east-1: AWS/Route53/HealthCheckStatus HealthCheckId=* -> us-east-1",
            "carbon-edge-5xx: AWS/CloudFront/5xxErrorRate DistributionId=*,Region=Global -> us-east-1",
        ]),
    );
    // Each secondary alarms on its own replication lags and on the canaries it runs against the
    // two other regions' APIs, all in its own region.
    for region in ["eu-west-1", "ap-southeast-1"] {
        let mut want: Vec<String> = ["us-east-1", "eu-west-1", "ap-southeast-1"]
            .into_iter()
            .filter(|t| *t != region)
            .map(|t| format!("carbon-api-{t}-probe-failed: Carbon/Canary/Success CanaryName=carbon-api-{t}-from-{region} -> {region}"))
            .collect();
        // The lag is a node metric: the dimension names a member cluster ElastiCache made (the
        // first node of the first shard, as the footprint's groups run in cluster mode).
        let node = format!("carbon-cache-{region}-0001-001");
        let groups = emu.call(
            region,
            "elasticache",
            "describe_replication_groups",
            serde_json::json!({ "ReplicationGroupId": format!("carbon-cache-{region}") }),
        );
        assert!(
            groups["ReplicationGroups"][0]["MemberClusters"]
                .as_array()
                .is_some_and(|m| m.iter().any(|c| c == &serde_json::json!(node))),
            "{groups}"
        );
        want.push(format!(
            "carbon-cache-replication-lag: AWS/ElastiCache/GlobalDatastoreReplicationLag CacheClusterId={node} -> {region}"
        ));
        want.push(format!(
            "carbon-db-replication-lag: AWS/RDS/AuroraGlobalDBReplicationLag DBClusterIdentifier=carbon-{region} -> {region}"
        ));
        want.sort();
        assert_eq!(alarms(region), serde_json::json!(want));
    }
    // Every region runs canaries against the two other regions' APIs and the edge, writing to
    // its own bucket, as the canary role, running.
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        let mut want: Vec<String> = ["us-east-1", "eu-west-1", "ap-southeast-1"]
            .into_iter()
            .filter(|t| *t != region)
            .map(|t| format!("carbon-api-{t}-from-{region}: RUNNING rate(1 minute) -> carbon-canary-artifacts-{region} as carbon-canary on syn-python-selenium-7.0"))
            .collect();
        want.push(format!("carbon-edge-from-{region}: RUNNING rate(5 minutes) -> carbon-canary-artifacts-{region} as carbon-canary on syn-python-selenium-7.0"));
        want.sort();
        assert_eq!(inv[format!("canaries@{region}")], serde_json::json!(want));
    }
    // Each artifact bucket in its region, versioned, encrypted with its region's key, expiring;
    // each ClickHouse backup bucket in its region, versioned, under its region's key.
    let regions = ["ap-southeast-1", "eu-west-1", "us-east-1"];
    let buckets: Vec<String> = regions
        .map(|r| format!("carbon-canary-artifacts-{r}@{r}: versioning Enabled, aws:kms key@{r}, lifecycle canary/:30/7"))
        .into_iter()
        .chain(regions.map(|r| {
            format!(
                "events-clickhouse-backups-{r}@{r}: versioning Enabled, aws:kms key@{r}, lifecycle none"
            )
        }))
        .collect();
    assert_eq!(inv["buckets"], serde_json::json!(buckets));
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        assert_eq!(
            inv[format!("sns@{region}")],
            serde_json::json!(["carbon-alerts"])
        );
    }
    // The dashboard draws each metric from the region it is published in.
    assert_eq!(
        inv["dashboards"],
        serde_json::json!([
            "carbon-ops: text | metric us-east-1,us-east-1,us-east-1 | metric us-east-1,eu-west-1,ap-southeast-1 | metric eu-west-1,ap-southeast-1 | metric us-east-1 | metric us-east-1 | alarm x3"
        ])
    );
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        let eks = inv[format!("eks@{region}")].to_string();
        assert!(
            eks.contains("-gpu g5.") && eks.contains("-general "),
            "{region}: {eks}"
        );
    }
    assert_eq!(
        inv["aurora_global"].as_array().map(Vec::len),
        Some(1),
        "{}",
        inv["aurora_global"]
    );
    let global = inv["aurora_global"][0].as_str().unwrap_or_default();
    assert!(
        global.contains("us-east-1 writer")
            && global.contains("eu-west-1")
            && global.contains("ap-southeast-1"),
        "{global}"
    );
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        let clusters = inv[format!("aurora@{region}")].to_string();
        assert!(
            clusters.contains(&format!("kms={region}")),
            "{region}: {clusters}"
        );
    }
    let records = inv["route53"].to_string();
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        assert!(
            records.contains(&format!("CNAME {region} ttl=60 checked=True")),
            "{records}"
        );
    }
    assert_eq!(inv["cloudfront"].as_array().map(Vec::len), Some(1), "{inv}");
    assert!(
        inv["cloudfront"][0]
            .as_str()
            .unwrap_or_default()
            .contains("waf yes"),
        "{inv}"
    );
    assert_eq!(inv["waf_acls"].as_array().map(Vec::len), Some(1), "{inv}");
    assert!(
        inv["redis_global"][0]
            .as_str()
            .unwrap_or_default()
            .contains("SECONDARY"),
        "{inv}"
    );

    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "global.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);
    let state = std::fs::read_to_string(d.join(".carbon/global.state.json")).unwrap();
    assert!(!state.contains(SECRET));
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));

    // The state of the first apply, for the field-coverage check at the end.
    let first_state: serde_json::Value = serde_json::from_str(&state).unwrap();

    // Every field the footprint sets is read back from AWS (so a change outside carbonc shows
    // as drift), or is listed as not read, with the reason.
    let rb = common::readback::check(&emu, &first_state);
    let listed = common::readback::not_read();
    let unexplained: Vec<String> = rb
        .unread
        .iter()
        .filter(|(k, _)| !listed.contains_key(*k))
        .map(|(k, at)| format!("{k}: not read back from AWS (at {at})"))
        .collect();
    let stale: Vec<&String> = listed.keys().filter(|k| rb.read.contains(*k)).collect();
    eprintln!(
        "read-back: {} fields set by the footprint are read back from AWS; {} listed as not read",
        rb.read.len(),
        rb.unread.len()
    );
    assert!(rb.errors.is_empty(), "{:#?}", rb.errors);
    // And a read from the program's attributes alone, as when a crash left only an intent and
    // the resource is adopted, fills in every computed attribute its dependents read.
    assert!(
        rb.computed_missing.is_empty(),
        "computed attributes a read does not fill in: {:#?}",
        rb.computed_missing
    );
    assert!(unexplained.is_empty(), "{unexplained:#?}");
    assert!(stale.is_empty(), "listed as not read, but read: {stale:?}");

    // Day-two changes, each of which AWS runs asynchronously: Kubernetes one minor version up
    // (control planes, then node groups), an Aurora minor version (secondaries first), the Redis
    // node type (through the Global Datastore), a tag removed everywhere, a secret replica added.
    edit(
        &d,
        "modules/eks.carbon",
        "param version: String = \"1.35\"",
        "param version: String = \"1.36\"",
    );
    edit(
        &d,
        "global.carbon",
        "let db_engine_version = \"16.8\"",
        "let db_engine_version = \"16.9\"",
    );
    edit(
        &d,
        "global.carbon",
        "node_type = \"cache.r7g.large\"",
        "node_type = \"cache.r7g.xlarge\"",
    );
    edit(
        &d,
        "global.carbon",
        "let tags = { owner = \"platform\", ",
        "let tags = { ",
    );
    edit(
        &d,
        "global.carbon",
        "replica_regions = [euw1]",
        "replica_regions = [euw1, apse1]",
    );
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "global.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Apply complete! Resources: 0 added,")
            && r.stdout.contains(" changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let inv = emu.python(
        "inventory.py",
        &["us-east-1", "eu-west-1", "ap-southeast-1"],
    );
    for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
        let cluster = emu.call(
            region,
            "eks",
            "describe_cluster",
            serde_json::json!({ "name": format!("carbon-{region}") }),
        );
        assert_eq!(cluster["cluster"]["version"], "1.36", "{cluster}");
        for group in ["general", "gpu"] {
            let ng = emu.call(
                region,
                "eks",
                "describe_nodegroup",
                serde_json::json!({ "clusterName": format!("carbon-{region}"), "nodegroupName": format!("carbon-{region}-{group}") }),
            );
            assert_eq!(ng["nodegroup"]["version"], "1.36", "{ng}");
        }
        let clusters = emu.call(region, "rds", "describe_db_clusters", serde_json::json!({}));
        assert!(
            clusters["DBClusters"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["EngineVersion"] == "16.9"),
            "{region}: {clusters}"
        );
        let groups = emu.call(
            region,
            "elasticache",
            "describe_replication_groups",
            serde_json::json!({}),
        );
        let nodes = groups["ReplicationGroups"][0]["CacheNodeType"].clone();
        assert_eq!(nodes, "cache.r7g.xlarge", "{region}: {groups}");
    }
    assert!(
        inv["secret@ap-southeast-1"] != serde_json::json!([]),
        "the new replica: {inv}"
    );
    let role = emu.call(
        "us-east-1",
        "iam",
        "list_role_tags",
        serde_json::json!({ "RoleName": "carbon-eks-cluster" }),
    );
    assert!(
        !role.to_string().contains("\"owner\""),
        "the removed tag is gone: {role}"
    );
    // Also where the update path is each service's own tagging API (Secrets Manager TagResource,
    // WAF UntagResource, RDS and ElastiCache RemoveTagsFromResource on subnet groups and on the
    // Aurora global cluster's regionless ARN).
    let secret = emu.call(
        "us-east-1",
        "secretsmanager",
        "describe_secret",
        serde_json::json!({ "SecretId": "carbon/db/master" }),
    );
    let acls = emu.call(
        "us-east-1",
        "wafv2",
        "list_web_acls",
        serde_json::json!({ "Scope": "CLOUDFRONT" }),
    );
    let acl_tags = emu.call(
        "us-east-1",
        "wafv2",
        "list_tags_for_resource",
        serde_json::json!({ "ResourceARN": acls["WebACLs"][0]["ARN"] }),
    );
    let groups = emu.call(
        "eu-west-1",
        "rds",
        "describe_db_subnet_groups",
        serde_json::json!({}),
    );
    let group_tags = emu.call(
        "eu-west-1",
        "rds",
        "list_tags_for_resource",
        serde_json::json!({ "ResourceName": groups["DBSubnetGroups"][0]["DBSubnetGroupArn"] }),
    );
    let global_tags = emu.call(
        "us-east-1",
        "rds",
        "describe_global_clusters",
        serde_json::json!({ "GlobalClusterIdentifier": "carbon-global" }),
    );
    for tags in [
        &secret["Tags"],
        &acl_tags["TagInfoForResource"],
        &group_tags["TagList"],
        &global_tags["GlobalClusters"][0]["TagList"],
    ] {
        assert!(
            tags.to_string().contains("carbon:footprint") && !tags.to_string().contains("owner"),
            "the removed tag is gone, the kept one stays: {tags}"
        );
    }
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "global.carbon"],
        &vars,
    );
    assert_eq!(
        r.code, 0,
        "the plan after the update has changes:\n{}",
        r.stdout
    );

    // Destroy the whole footprint: deletion protection is switched off first (in place, on the
    // global cluster and its three clusters), as on AWS; then nothing carbon-made is left.
    let mut unprotected = vars.to_vec();
    unprotected.push(("CARBON_VAR_db_deletion_protection", "false"));
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "global.carbon"],
        &unprotected,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 0 added, 4 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "global.carbon"],
        &unprotected,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 0 added, 0 changed, 190 destroyed."),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));
    let inv = emu.python(
        "inventory.py",
        &["us-east-1", "eu-west-1", "ap-southeast-1"],
    );
    let left: Vec<String> = inv
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            // The rotation Lambda's role is the harness's (see `rotation_lambda`), and so are the
            // load balancers' own networks (`load_balancers.py`): not carbonc's.
            *v != &serde_json::json!([])
                && !(*k == "role" && *v == &serde_json::json!(["carbon-rotator"]))
                && !(k.starts_with("any-vpc@") && *v == &serde_json::json!(["10.250.0.0/16"]))
        })
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:#?}");
    // Apply, update and destroy of the whole footprint: not one request that AWS's service
    // models refuse.
    emu.assert_valid_requests();
    // Every field the footprint sets reaches AWS in some request of the apply, the update or the
    // destroy, or is listed as not sent, with the reason.
    let cov = common::coverage::check(&first_state, &emu.requests());
    let listed = common::coverage::not_sent();
    let unexplained: Vec<String> = cov
        .missing
        .iter()
        .filter(|(k, _)| !listed.contains_key(*k))
        .map(|(k, v)| format!("{k}: {v} was sent in no request"))
        .collect();
    let stale: Vec<&String> = listed.keys().filter(|k| cov.covered.contains(*k)).collect();
    eprintln!(
        "field coverage: {} fields set with a checkable value reach a request; {} listed as not \
         sent; {} set only to booleans or empty values",
        cov.covered.len(),
        cov.missing.len(),
        cov.unchecked.len()
    );
    assert!(unexplained.is_empty(), "{unexplained:#?}");
    assert!(stale.is_empty(), "listed as not sent, but sent: {stale:?}");
}

/// Runs `carbonc ARGS` and kills it (SIGKILL) when `at` says so of a progress line (given the line
/// and how many progress lines came before). Returns whether it was killed before it finished.
fn kill_when(
    dir: &Path,
    emu: &Emulator,
    args: &[&str],
    vars: &[(&str, &str)],
    at: &dyn Fn(&str, usize) -> bool,
) -> bool {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in emu
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(vars.iter().copied())
    {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("carbonc starts");
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    let mut killed = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let progress = line.contains("...") || line.contains(" complete after ");
        if progress && at(&line, seen) {
            killed = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            break;
        }
        if progress {
            seen += 1;
        }
    }
    let _ = child.wait();
    killed
}

/// How many of each kind of thing the inventory lists: ids differ from run to run, counts do not.
fn shape(inv: &serde_json::Value) -> BTreeMap<String, usize> {
    inv.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_array().map_or(0, Vec::len)))
        .collect()
}

/// kill -9 of applies and destroys of the whole footprint, at points spread over each run and at
/// the starts of AWS's asynchronous phases (a Global Datastore membership change, a CloudFront
/// deployment, an Aurora cluster promoting after leaving its global database, a datastore
/// disassociation): the next run converges, with exactly the resources of a clean apply (nothing
/// twice, nothing orphaned) and, after destroy, nothing. `CARBONC_KILL_ROUNDS` rounds of two kill
/// points each (default 2; `scripts/test-kill-campaign` runs 26: about 50 kill points).
#[test]
fn the_footprint_killed_at_many_points_converges_without_duplicates_or_orphans() {
    let emu = Emulator::start();
    let d = fixture("global-kill");
    for f in [
        "global.carbon",
        "modules/eks.carbon",
        "modules/aurora_global.carbon",
    ] {
        std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
        std::fs::copy(repo().join("examples").join(f), d.join(f)).unwrap();
    }
    copy_dir(&repo().join("examples/charts/api"), &d.join("charts/api"));
    rotation_lambda(&emu);
    // The regional API load balancers the footprint looks up (EKS's controller makes them).
    emu.python(
        "load_balancers.py",
        &["carbon-api", "us-east-1", "eu-west-1", "ap-southeast-1"],
    );
    let cert = emu.call(
        "us-east-1",
        "acm",
        "request_certificate",
        serde_json::json!({ "DomainName": "www.example.com" }),
    );
    let arn = cert["CertificateArn"].as_str().expect("an ARN").to_string();
    let vars = [
        ("CARBON_VAR_db_master_password", SECRET),
        ("CARBON_VAR_acm_certificate_arn", arn.as_str()),
        ("CARBON_VAR_db_deletion_protection", "false"),
    ];
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-1"];
    let apply = ["apply", "--auto-approve", "global.carbon"];
    let destroy = ["destroy", "--auto-approve", "global.carbon"];
    // The shape of a clean apply, and of an empty account.
    let r = carbonc(&d, &emu, &apply, &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let full = shape(&emu.python("inventory.py", &regions));
    let r = carbonc(&d, &emu, &destroy, &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let empty = shape(&emu.python("inventory.py", &regions));
    let rounds: usize = std::env::var("CARBONC_KILL_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    // Named points first (the asynchronous phases), then points spread by progress count.
    let apply_at = ["cache[eu-west-1]: Creating...", "cdn: Creating..."];
    let destroy_at = [
        "db_secondary[eu-west-1].cluster: Destroying...",
        "cache[ap-southeast-1]: Destroying...",
    ];
    let mut kills = 0;
    for round in 0..rounds {
        let at_apply = |line: &str, seen: usize| match apply_at.get(round) {
            Some(p) => line.contains(p),
            None => seen >= 7 + (round * 37) % 170,
        };
        if kill_when(&d, &emu, &apply, &vars, &at_apply) {
            kills += 1;
        }
        let r = carbonc(&d, &emu, &apply, &vars);
        assert_eq!(r.code, 0, "round {round}: {}\n{}", r.stdout, r.stderr);
        let now = shape(&emu.python("inventory.py", &regions));
        assert_eq!(now, full, "round {round}: not the clean apply's resources");
        let r = carbonc(
            &d,
            &emu,
            &["plan", "--detailed-exitcode", "global.carbon"],
            &vars,
        );
        assert_eq!(r.code, 0, "round {round}: not converged\n{}", r.stdout);
        let at_destroy = |line: &str, seen: usize| match destroy_at.get(round) {
            Some(p) => line.contains(p),
            None => seen >= 11 + (round * 41) % 170,
        };
        if kill_when(&d, &emu, &destroy, &vars, &at_destroy) {
            kills += 1;
        }
        let r = carbonc(&d, &emu, &destroy, &vars);
        assert_eq!(r.code, 0, "round {round}: {}\n{}", r.stdout, r.stderr);
        let now = shape(&emu.python("inventory.py", &regions));
        assert_eq!(now, empty, "round {round}: left after destroy");
        eprintln!("round {round}: converged after its kills ({kills} kill points so far)");
    }
    eprintln!("{kills} kill points over {rounds} rounds");
    assert!(
        kills >= rounds * 3 / 2,
        "only {kills} runs were killed mid-way"
    );
    emu.assert_valid_requests();
}

/// Taking a region out of the program destroys exactly that region's resources; the other
/// region's are untouched (same ids before and after).
#[test]
fn removing_a_region_destroys_exactly_its_resources() {
    let emu = Emulator::start();
    let d = fixture("region-out");
    let token = [("CARBON_VAR_token", SECRET)];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let vpc = recorded_id(&d, "vpc[us-east-1]");
    let key = recorded_id(&d, "key[us-east-1]");

    let program = std::fs::read_to_string(d.join("main.carbon")).unwrap();
    let without: String = program
        .lines()
        .filter(|l| !l.starts_with("region euw1"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("main.carbon"), without).unwrap();
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &token,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 0 changed, 8 destroyed."),
        "{}",
        r.stdout
    );
    for line in r
        .stdout
        .lines()
        .filter(|l| l.contains("Destruction complete"))
    {
        assert!(line.contains("[eu-west-1]"), "{line}");
    }
    let inv = emu.inventory();
    for k in [
        "any-vpc@eu-west-1",
        "subnet@eu-west-1",
        "kms@eu-west-1",
        "secret@eu-west-1",
    ] {
        assert_eq!(inv[k], serde_json::json!([]), "{k}: {inv}");
    }
    assert_eq!(recorded_id(&d, "vpc[us-east-1]"), vpc);
    assert_eq!(recorded_id(&d, "key[us-east-1]"), key);
    assert_eq!(inv["any-vpc@us-east-1"], serde_json::json!(["10.0.0.0/16"]));
    emu.assert_valid_requests();
}

/// WAF writes carry the lock token of a read: a change made by someone else between carbonc's read
/// and its write makes AWS answer WAFOptimisticLockException ("Get the resource again ... and
/// retry"). The proxy holds carbonc's UpdateIPSet while boto3 updates the set; carbonc's write then
/// fails with the stale token, and it reads the token again and succeeds.
#[test]
fn a_waf_write_racing_another_writer_is_retried_with_a_fresh_lock_token() {
    let emu = Emulator::start();
    let d = fixture("waf");
    std::fs::copy(repo().join("tests/apply/waf.carbon"), d.join("main.carbon")).unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    edit(
        &d,
        "main.carbon",
        "\"203.0.113.0/24\"",
        "\"198.51.100.0/24\"",
    );

    let proxy = FaultProxy::start(&emu, &["--hold", "POST UpdateIPSet$ 1"]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(["apply", "--auto-approve", "main.carbon"])
        .current_dir(&d)
        .env_remove("AWS_PROFILE")
        .envs(&proxy.env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("carbonc starts");
    proxy.wait_held(std::time::Duration::from_secs(120));
    // Another writer, straight to the emulator: the set changes, and so does its lock token.
    let sets = emu.call(
        "us-east-1",
        "wafv2",
        "list_ip_sets",
        serde_json::json!({"Scope": "REGIONAL"}),
    );
    let id = sets["IPSets"][0]["Id"].as_str().unwrap().to_string();
    let key = serde_json::json!({"Name": "carbon-test-offices", "Scope": "REGIONAL", "Id": id});
    let got = emu.call("us-east-1", "wafv2", "get_ip_set", key.clone());
    let mut update = key.clone();
    update["Addresses"] = serde_json::json!(["192.0.2.0/24"]);
    update["LockToken"] = got["LockToken"].clone();
    emu.call("us-east-1", "wafv2", "update_ip_set", update);
    proxy.release();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("WAFOptimisticLockException"),
        "the retry is shown: {stdout}\n{stderr}"
    );
    let got = emu.call("us-east-1", "wafv2", "get_ip_set", key);
    assert_eq!(
        got["IPSet"]["Addresses"],
        serde_json::json!(["198.51.100.0/24"]),
        "{got}"
    );
    proxy.finish();
    emu.assert_valid_requests();
}

/// A load balancer that exists outside carbonc (the controller in EKS makes it) is looked up by
/// name or ARN in its region (`aws.elbv2.LoadBalancer`, a lookup): a Route53 alias record points
/// at its DNS name and hosted zone, read from AWS; a name that is not there is a clear error.
#[test]
fn a_load_balancer_is_looked_up_by_name_and_aliased() {
    let emu = Emulator::start();
    let vpc = emu.call(
        "us-west-2",
        "ec2",
        "create_vpc",
        serde_json::json!({ "CidrBlock": "10.9.0.0/16" }),
    );
    let vpc = vpc["Vpc"]["VpcId"].as_str().expect("a VPC").to_string();
    let subnets: Vec<String> = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(i, az)| {
            let s = emu.call(
                "us-west-2",
                "ec2",
                "create_subnet",
                serde_json::json!({ "VpcId": vpc, "CidrBlock": format!("10.9.{i}.0/24"), "AvailabilityZone": format!("us-west-2{az}") }),
            );
            s["Subnet"]["SubnetId"].as_str().expect("a subnet").to_string()
        })
        .collect();
    let lb = emu.call(
        "us-west-2",
        "elbv2",
        "create_load_balancer",
        serde_json::json!({ "Name": "carbon-api", "Subnets": subnets, "Type": "application" }),
    );
    let lb = &lb["LoadBalancers"][0];
    let dns = lb["DNSName"].as_str().expect("a DNS name").to_string();
    let arn = lb["LoadBalancerArn"].as_str().expect("an ARN").to_string();
    let zone_id = lb["CanonicalHostedZoneId"]
        .as_str()
        .expect("a zone")
        .to_string();
    let d = fixture("lb-lookup");
    let program = r#"
region usw2 { code = "us-west-2", role = .primary }

resource aws.elbv2.LoadBalancer api_lb @ usw2 { name = "carbon-api" }

resource aws.route53.Zone zone { name = "lb.example.com" }

resource aws.route53.Record api {
    zone = zone
    name = "api.lb.example.com"
    type = .A
    alias = { dns_name = api_lb.dns_name, zone_id = api_lb.canonical_hosted_zone_id }
}

output api_lb = api_lb.dns_name
"#;
    std::fs::write(d.join("main.carbon"), program).unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("api_lb = \"{dns}\"")),
        "{}",
        r.stdout
    );
    let zones = emu.call(
        "us-east-1",
        "route53",
        "list_hosted_zones",
        serde_json::json!({}),
    );
    let zone = zones["HostedZones"][0]["Id"]
        .as_str()
        .expect("the zone")
        .to_string();
    let sets = emu.call(
        "us-east-1",
        "route53",
        "list_resource_record_sets",
        serde_json::json!({ "HostedZoneId": zone }),
    );
    let alias = sets["ResourceRecordSets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "api.lb.example.com.")
        .map(|s| s["AliasTarget"].clone())
        .expect("the record");
    assert_eq!(
        alias["DNSName"].as_str().map(|s| s.trim_end_matches('.')),
        Some(dns.as_str()),
        "{alias}"
    );
    assert_eq!(alias["HostedZoneId"], zone_id.as_str(), "{alias}");
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    // A load balancer that is not there: said, with its name, and nothing that needs it changes.
    std::fs::write(
        d.join("main.carbon"),
        program.replace("name = \"carbon-api\"", "name = \"carbon-missing\""),
    )
    .unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("api_lb") && all.contains("carbon-missing"),
        "{all}"
    );
    // By ARN (`LoadBalancerArns`): the same load balancer, the same DNS name; the alias record
    // does not change.
    std::fs::write(
        d.join("main.carbon"),
        program.replace("name = \"carbon-api\"", &format!("name = \"{arn}\"")),
    )
    .unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("api_lb = \"{dns}\"")),
        "{}",
        r.stdout
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    emu.assert_valid_requests();
}

/// The UpdateCanary and CreateCanary requests the emulator answered, from the `from`th request on.
fn canary_requests(emu: &Emulator, from: usize) -> Vec<serde_json::Value> {
    emu.requests().as_array().unwrap()[from..]
        .iter()
        .filter(|q| q["service"] == "synthetics")
        .cloned()
        .collect()
}

#[test]
fn a_canary_and_its_bucket_are_created_updated_stopped_and_destroyed() {
    let emu = Emulator::start();
    let d = fixture("canaries");
    std::fs::copy(
        repo().join("tests/apply/canaries.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(
        inv["canaries@eu-west-1"],
        serde_json::json!([
            "carbon-api-probe: RUNNING rate(1 minute) -> carbon-canary-artifacts-test as carbon-canary on syn-python-selenium-7.0"
        ])
    );
    assert_eq!(
        inv["buckets"],
        serde_json::json!([
            "carbon-canary-artifacts-test@eu-west-1: versioning Enabled, aws:kms key@eu-west-1, lifecycle canary/:30/-"
        ])
    );
    // The secret header's value stays in Secrets Manager: the script names the secret's ARN.
    let created = canary_requests(&emu, 0);
    assert!(created.iter().any(|q| q["operation"] == "CreateCanary"));
    assert!(
        !serde_json::to_string(&created)
            .unwrap()
            .contains("not-in-the-script")
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // A new threshold is new code (UpdateCanary with the script), stopping is StopCanary;
    // versioning turned off is suspended, and the lifecycle rule changes in place.
    let before = emu.requests().as_array().unwrap().len();
    let vars = [
        ("CARBON_VAR_latency", "500"),
        ("CARBON_VAR_running", "false"),
        ("CARBON_VAR_versioning", "false"),
        ("CARBON_VAR_keep_days", "10"),
    ];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 0 added, 2 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    let ops: Vec<String> = canary_requests(&emu, before)
        .iter()
        .map(|q| q["operation"].as_str().unwrap_or_default().to_string())
        .filter(|o| !o.starts_with("Get") && !o.starts_with("Describe"))
        .collect();
    assert_eq!(ops, ["UpdateCanary", "StopCanary"], "{ops:?}");
    let inv = emu.inventory();
    assert_eq!(
        inv["canaries@eu-west-1"],
        serde_json::json!([
            "carbon-api-probe: STOPPED rate(1 minute) -> carbon-canary-artifacts-test as carbon-canary on syn-python-selenium-7.0"
        ])
    );
    assert_eq!(
        inv["buckets"],
        serde_json::json!([
            "carbon-canary-artifacts-test@eu-west-1: versioning Suspended, aws:kms key@eu-west-1, lifecycle canary/:10/-"
        ])
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &vars,
    );
    assert_eq!(
        r.code, 0,
        "the plan after the update has changes:\n{}",
        r.stdout
    );

    // Drift: the schedule changed and the canary started behind carbonc's back.
    emu.call(
        "eu-west-1",
        "synthetics",
        "update_canary",
        serde_json::json!({ "Name": "carbon-api-probe", "Schedule": { "Expression": "rate(30 minutes)" } }),
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &vars,
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("\"rate(30 minutes)\" -> \"rate(1 minute)\""),
        "{}",
        r.stdout
    );
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // An artifact in the bucket (a run's log) does not stop the destroy: force_destroy empties it.
    emu.call(
        "eu-west-1",
        "s3",
        "put_object",
        serde_json::json!({ "Bucket": "carbon-canary-artifacts-test", "Key": "canary/carbon-api-probe/log.txt", "Body": "run" }),
    );
    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let inv = emu.inventory();
    assert_eq!(inv["canaries@eu-west-1"], serde_json::json!([]));
    assert_eq!(inv["buckets"], serde_json::json!([]));
    emu.assert_valid_requests();
}

/// A loopback HTTP endpoint that answers 200 and hands over each request body it receives.
fn webhook() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/sns", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = tx.send(String::from_utf8_lossy(&body).to_string());
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

#[test]
fn subscriptions_wait_for_their_endpoint_to_confirm() {
    let emu = Emulator::start();
    let d = fixture("alerts");
    std::fs::copy(
        repo().join("tests/apply/alerts.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let (url, received) = webhook();
    let vars = [("CARBON_VAR_webhook", url.as_str())];
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(recorded_attribute(&d, "pager", "confirmed"), false);
    assert_eq!(recorded_attribute(&d, "oncall_email", "confirmed"), false);
    // SNS posts the confirmation request to the webhook; the endpoint confirms with its token.
    let message: serde_json::Value = serde_json::from_str(
        &received
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("a SubscriptionConfirmation"),
    )
    .expect("JSON");
    assert_eq!(message["Type"], "SubscriptionConfirmation", "{message}");
    let topic = attribute(&d, "alerts", "arn");
    let confirmed = emu.call(
        "eu-west-1",
        "sns",
        "confirm_subscription",
        serde_json::json!({ "TopicArn": topic, "Token": message["Token"] }),
    );
    assert_eq!(
        confirmed["SubscriptionArn"].as_str(),
        Some(recorded_id(&d, "pager").as_str())
    );
    let r = carbonc(&d, &emu, &["refresh", "main.carbon"], &vars);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(recorded_attribute(&d, "pager", "confirmed"), true);
    assert_eq!(recorded_attribute(&d, "oncall_email", "confirmed"), false);
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &vars,
    );
    assert_eq!(
        r.code, 0,
        "the plan after refresh has changes:\n{}",
        r.stdout
    );
    let attrs = emu.call(
        "eu-west-1",
        "sns",
        "get_subscription_attributes",
        serde_json::json!({ "SubscriptionArn": recorded_id(&d, "pager") }),
    );
    assert_eq!(
        attrs["Attributes"]["FilterPolicyScope"], "MessageBody",
        "{attrs}"
    );
    // The pending email subscription cannot be unsubscribed (SNS refuses); it goes with its topic.
    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &vars,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let left = emu.call(
        "eu-west-1",
        "sns",
        "list_subscriptions",
        serde_json::json!({}),
    );
    assert_eq!(left["Subscriptions"], serde_json::json!([]), "{left}");
    emu.assert_valid_requests();
}
