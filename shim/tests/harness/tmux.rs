//! A real terminal for `ctr -t`: a tmux session of a given size, which the
//! test types into (`send-keys`), resizes (`resize-window`, which makes
//! ctr send containerd a ResizePty) and reads (`capture-pane`).

use std::process::Command;
use std::time::{Duration, Instant};

/// One detached tmux session on a server of its own.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command_line` in a `cols`×`rows` session; `None` (and the
    /// prerequisite rule) when tmux is missing.
    pub fn start(name: &str, command_line: &str, cols: u16, rows: u16) -> Option<Tmux> {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !crate::harness::prerequisite(
            found,
            "the terminal scenario needs tmux (apt install tmux)",
        ) {
            return None;
        }
        let tmux = Tmux {
            socket: format!("runj-e2e-{name}-{}", std::process::id()),
        };
        tmux.ok(&[
            "new-session",
            "-d",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            command_line,
        ]);
        tmux.ok(&["set-option", "-g", "remain-on-exit", "on"]);
        Some(tmux)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` (tmux key names: `Enter`, `C-c`, or literal text).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.ok(&args);
    }

    /// A line of text, then Enter.
    pub fn type_line(&self, text: &str) {
        self.ok(&["send-keys", "-l", text]);
        self.keys(&["Enter"]);
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.ok(&[
            "resize-window",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
    }

    /// The screen's lines, trailing blanks trimmed.
    pub fn screen(&self) -> Vec<String> {
        self.ok(&["capture-pane", "-p", "-S", "-200"])
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    }

    /// Waits (at most 30 s) for a screen line equal to `line`.
    pub fn wait_for_line(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.iter().any(|l| l == line) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no line {line:?} on the screen:\n{}",
                screen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The exit status of the session's command once it has ended.
    pub fn exit_status(&self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.ok(&["display-message", "-p", "#{pane_dead} #{pane_dead_status}"]);
            if let Some(status) = out.trim().strip_prefix("1 ") {
                return status.parse().expect("a status");
            }
            assert!(
                Instant::now() < deadline,
                "the terminal's command did not end:\n{}",
                self.screen().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
