//! Several processes race for the state lock at the same instant: exactly one wins, and every other
//! reports the winner as the holder. The test re-runs its own binary as the racing processes.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use carbonc_state::LocalBackend;

const CHILD: &str = "CARBONC_LOCK_RACE_CHILD";

/// In a child process: wait for the agreed instant, race, report, hold the lock a moment.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let (path, start) = spec.split_once('|').expect("path|start");
    let start = Duration::from_millis(start.parse().expect("millis"));
    while SystemTime::now().duration_since(UNIX_EPOCH).unwrap() < start {
        std::thread::sleep(Duration::from_millis(1));
    }
    match LocalBackend::new(PathBuf::from(path)).lock("apply", Duration::ZERO) {
        Ok(guard) => {
            println!("RESULT won {}", guard.info.pid);
            std::thread::sleep(Duration::from_millis(800));
        }
        Err(e) => {
            let holder = e
                .to_string()
                .lines()
                .find(|l| l.contains("Holder:"))
                .unwrap_or("")
                .to_string();
            println!("RESULT lost {holder}");
        }
    }
}

#[test]
fn exactly_one_process_wins_and_the_others_name_it() {
    let dir = std::env::temp_dir().join(format!("carbonc-lock-processes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.join("s.state.json");
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_millis(700);
    let spec = format!("{}|{}", state.display(), start.as_millis());
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "child_process_entry",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, &spec)
                .output_async()
        })
        .collect();
    let outputs: Vec<String> = children.into_iter().map(|c| c.wait()).collect();
    let results: Vec<&str> = outputs
        .iter()
        .flat_map(|o| o.lines().filter_map(|l| l.find("RESULT ").map(|i| &l[i..])))
        .collect();
    assert_eq!(results.len(), 4, "{outputs:#?}");
    let winners: Vec<&&str> = results
        .iter()
        .filter(|r| r.starts_with("RESULT won "))
        .collect();
    assert_eq!(winners.len(), 1, "{results:#?}");
    let pid = winners[0].trim_start_matches("RESULT won ");
    for r in results.iter().filter(|r| r.starts_with("RESULT lost")) {
        assert!(
            r.contains(&format!("(pid {pid}")),
            "a loser names the winner: {r}"
        );
    }
}

/// `Command::output` on a thread, so that the children really start together.
trait OutputAsync {
    fn output_async(&mut self) -> Pending;
}

struct Pending(std::thread::JoinHandle<String>);

impl Pending {
    fn wait(self) -> String {
        self.0.join().expect("child thread")
    }
}

impl OutputAsync for Command {
    fn output_async(&mut self) -> Pending {
        let child = self
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        Pending(std::thread::spawn(move || {
            let out = child.wait_with_output().expect("child runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }))
    }
}
