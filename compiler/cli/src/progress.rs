//! Progress of apply, destroy and refresh, one line per resource event.
//!
//! On a terminal: a spinner per action under way with its elapsed time and what it waits for
//! (`waiting for EKS cluster carbon-us-east-1 to be available (now CREATING)`), finished actions printed above the spinners, and
//! an overall bar. Elsewhere (CI logs, pipes), plain lines in Terraform's style: `Creating...`,
//! `Still creating... [40s elapsed]` whenever what it waits for changes or 10 s have passed, and
//! `Creation complete after 52s`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use carbonc_apply::Event;
use carbonc_plan::Action;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub fn verb(a: Action) -> (&'static str, &'static str, &'static str) {
    match a {
        Action::Create => ("Creating...", "creating", "Creation complete"),
        Action::Update => ("Modifying...", "modifying", "Modifications complete"),
        Action::Replace => ("Replacing...", "replacing", "Replacement complete"),
        Action::Delete => ("Destroying...", "destroying", "Destruction complete"),
        Action::Read => ("Reading...", "reading", "Read complete"),
        Action::NoOp => ("", "", ""),
    }
}

/// How often a plain-line log repeats that an action is still under way.
const STILL_EVERY: Duration = Duration::from_secs(10);

struct Running {
    action: Action,
    start: Instant,
    /// Plain lines: when the last line about it was printed, and what it waited for then.
    last_line: Instant,
    last_wait: String,
    bar: Option<ProgressBar>,
}

pub struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
    running: BTreeMap<String, Running>,
}

impl Progress {
    /// `total`: the number of actions, for the overall bar. Bars only on a terminal that can draw
    /// them (`TERM=dumb` and `CI` mean plain lines).
    pub fn new(total: usize) -> Progress {
        let tty = std::io::stdout().is_terminal()
            && std::env::var("TERM").map_or(true, |t| t != "dumb")
            && std::env::var_os("CI").is_none_or(|v| v.is_empty());
        let bars = tty.then(|| {
            let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            let overall = mp.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} done  [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            overall.enable_steady_tick(Duration::from_millis(250));
            (mp, overall)
        });
        Progress {
            bars,
            running: BTreeMap::new(),
        }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some((mp, _)) => {
                let _ = mp.println(text);
            }
            None => println!("{text}"),
        }
    }

    fn end(&mut self, address: &str) -> Option<Running> {
        let r = self.running.remove(address)?;
        if let Some(b) = &r.bar {
            b.finish_and_clear();
        }
        if let Some((_, overall)) = &self.bars {
            overall.inc(1);
        }
        Some(r)
    }

    pub fn event(&mut self, e: &Event) {
        match e {
            Event::Started { address, action } => {
                let bar = self.bars.as_ref().map(|(mp, overall)| {
                    let b = mp.insert_before(overall, ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("{spinner:.green} {prefix} [{elapsed}] {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.set_prefix(format!("{address}: {}", verb(*action).1));
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                if bar.is_none() {
                    self.line(format!("{address}: {}", verb(*action).0));
                }
                self.running.insert(
                    address.clone(),
                    Running {
                        action: *action,
                        start: Instant::now(),
                        last_line: Instant::now(),
                        last_wait: String::new(),
                        bar,
                    },
                );
            }
            Event::Waiting { address, what } => {
                let Some(r) = self.running.get_mut(address) else {
                    return;
                };
                if let Some(b) = &r.bar {
                    b.set_message(format!("waiting for {what}"));
                    return;
                }
                if *what == r.last_wait && r.last_line.elapsed() < STILL_EVERY {
                    return;
                }
                r.last_wait = what.clone();
                r.last_line = Instant::now();
                let text = format!(
                    "{address}: Still {}... [{}s elapsed] waiting for {what}",
                    verb(r.action).1,
                    r.start.elapsed().as_secs()
                );
                self.line(text);
            }
            Event::Retrying {
                address,
                attempt,
                error,
            } => {
                if let Some(b) = self.running.get(address).and_then(|r| r.bar.as_ref()) {
                    b.set_message(format!("retrying (attempt {}) after {error}", attempt + 1));
                } else {
                    self.line(format!(
                        "{address}: retrying (attempt {}) after {error}",
                        attempt + 1
                    ));
                }
            }
            Event::Finished {
                address,
                action,
                elapsed,
            } => {
                self.end(address);
                self.line(format!(
                    "{address}: {} after {}s",
                    verb(*action).2,
                    elapsed.as_secs()
                ));
            }
            Event::Adopted { address, id } => self.line(format!("{address}: adopted [id={id}]")),
            Event::Failed { address, error } => {
                self.end(address);
                self.line(format!("{address}: FAILED: {error}"));
            }
            Event::Skipped { address, because } => {
                if let Some((_, overall)) = &self.bars {
                    overall.inc(1);
                }
                self.line(format!("{address}: skipped ({because})"));
            }
        }
    }

    /// Clears the bars (before the summary is printed).
    pub fn finish(&mut self) {
        for (_, r) in std::mem::take(&mut self.running) {
            if let Some(b) = r.bar {
                b.finish_and_clear();
            }
        }
        if let Some((_, overall)) = self.bars.take() {
            overall.finish_and_clear();
        }
    }
}
