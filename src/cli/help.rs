//! REPL help: `HELP` prints `command::table` (every command, by group) and `HELP <command>` a
//! row's usage. The README's command table lists the same names (`tests/command_table.rs`).

use crate::command::table::COMMANDS;

/// The text for `HELP` or `HELP command`.
pub fn help(topic: Option<String>) -> String {
    match topic {
        None => {
            let mut s = String::from("Commands (case-insensitive; quote values with spaces):");
            let mut group = None;
            for row in COMMANDS {
                if group != Some(row.group) {
                    group = Some(row.group);
                    s.push_str(&format!("\n{}:", row.group.title()));
                }
                let name = row.name.to_ascii_uppercase();
                s.push_str(&format!("\n  {name:<12} {}", row.summary));
            }
            s.push_str("\nHELP <command> shows its usage.");
            s
        }
        Some(t) => match COMMANDS.iter().find(|r| r.name.eq_ignore_ascii_case(&t)) {
            Some(row) => format!("{}\n  {}", row.usage, row.summary),
            None => format!("(error) ERR no help for '{t}'; type HELP for the list"),
        },
    }
}
