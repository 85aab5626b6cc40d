//! `carbonc-bench state [RESOURCES]`: what state encryption costs an apply, which writes the state
//! after every action. A state of RESOURCES resources (default 1,000) is written 50 times through
//! the local backend, plain and encrypted with a passphrase, and read back once.

use std::collections::BTreeMap;
use std::time::Instant;

use carbonc_state::{Codec, LocalBackend, ResourceState, State, Val};

fn state(n: usize) -> State {
    let mut s = State::new(carbonc_state::new_lineage());
    for i in 0..n {
        let attributes: BTreeMap<String, Val> = [
            (
                "cidr_block",
                Val::Str(format!("10.{}.{}.0/24", i / 256, i % 256)),
            ),
            (
                "description",
                Val::Str(format!("resource {i} of the bench")),
            ),
            (
                "tags",
                Val::Map(BTreeMap::from([(
                    "owner".to_string(),
                    Val::Str("platform".into()),
                )])),
            ),
            (
                "arn",
                Val::Str(format!(
                    "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-{i:08x}"
                )),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        s.resources.push(ResourceState {
            address: format!("subnet[{i}]"),
            ty: "aws.ec2.Subnet".into(),
            region: Some("us-east-1".into()),
            id: Some(format!("subnet-{i:08x}")),
            status: Default::default(),
            attributes,
            dependencies: vec![],
            token: None,
        });
    }
    s
}

pub fn bench_state(n: usize) {
    const WRITES: u64 = 50;
    let dir = std::env::temp_dir().join(format!("carbonc-bench-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, codec) in [
        ("plain", Codec::Plain),
        ("passphrase", Codec::passphrase("bench passphrase")),
    ] {
        let path = dir.join(format!("{name}.state.json"));
        let backend = LocalBackend::new(&path).with_codec(codec);
        let mut s = state(n);
        let start = Instant::now();
        s.serial = 1;
        backend.write(&s).expect("the first write");
        let first = start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 1..WRITES {
            s.serial += 1;
            backend.write(&s).expect("a write");
        }
        let each = start.elapsed().as_secs_f64() / (WRITES - 1) as f64;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let start = Instant::now();
        let back = LocalBackend::new(&path)
            .with_codec(match name {
                "plain" => Codec::Plain,
                _ => Codec::passphrase("bench passphrase"),
            })
            .read()
            .expect("it reads")
            .expect("a state");
        let read = start.elapsed().as_secs_f64();
        assert_eq!(back.serial, s.serial);
        println!(
            "state {n:>6} resources, {name:>10}: first write {:>7.1} ms, then {:>6.2} ms per write, \
             cold read {:>7.1} ms, {:.0} KiB",
            first * 1000.0,
            each * 1000.0,
            read * 1000.0,
            size as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
