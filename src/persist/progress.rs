//! Progress bars for long imports, exports and restores (indicatif), drawn on stderr only when
//! stderr is a terminal: in a pipe, a log or a test they print nothing at all.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `total` units (0: unknown, a spinner) named `what`; hidden off a terminal.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb =
        ProgressBar::with_draw_target((total > 0).then_some(total), ProgressDrawTarget::stderr());
    let template = if total > 0 {
        "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta})"
    } else {
        "{msg} {spinner} {human_pos} ({per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}
