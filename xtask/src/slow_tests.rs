//! The suite's slowest tests, named once for the ci steps that run the suite again after `test`
//! has run all of it: `package` (the crates' tests from their `.crate` files) and `mutants` (per
//! mutation). Each entry is a libtest `--skip` filter (a test whose name contains it is skipped)
//! and why the test is slow.

/// Tests of load and time: thousands of requests or webhooks, sockets held open, retries over
/// seconds of real time. Their code reads no file and no part of the spec that faster tests do
/// not read too.
pub(crate) const LOAD: &[(&str, &str)] = &[
    (
        "peers::ten_thousand_webhooks_due_at_once_are_all_delivered",
        "10,000 Covers and webhooks over HTTP: the webhook queue's capacity (minutes in a debug build)",
    ),
    (
        "peers::a_receiver_down_for_ten_seconds_then_back_gets_every_webhook_once",
        "retries over 10 s of real time",
    ),
    (
        "peers::a_thousand_stalled_connections_do_not_hold_up_other_clients",
        "a thousand sockets held open",
    ),
    (
        "webhooks::a_burst_of_due_webhooks_is_delivered_whole_and_once",
        "webhook delivery under a burst",
    ),
    (
        "upload::a_file_far_larger_than_the_memory_used_is_streamed",
        "the client's memory while streaming a large file",
    ),
];

/// Tests of signal processing and of a real browser: slow, and about sound and pages rather than
/// what openapi.yaml says.
pub(crate) const MEDIA: &[(&str, &str)] = &[
    (
        "domain::audio::",
        "decoding, pitch-shifting and encoding audio",
    ),
    ("browser::", "Chromium playing the results across origins"),
    (
        "browser_pages::",
        "Chromium driving the Explorer, the dashboard and the docs pages",
    ),
];

/// libtest's arguments skipping every test of `lists`.
pub(crate) fn skip_args(lists: &[&[(&str, &str)]]) -> Vec<String> {
    lists
        .iter()
        .flat_map(|list| list.iter())
        .flat_map(|(filter, _)| ["--skip".to_owned(), (*filter).to_owned()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_is_a_module_path_and_says_why() {
        // A filter is a substring: one without `::` could skip tests it was never meant to.
        for (filter, why) in LOAD.iter().chain(MEDIA) {
            assert!(filter.contains("::"), "{filter}");
            assert!(!why.is_empty(), "{filter}");
        }
        assert_eq!(
            skip_args(&[&LOAD[..1]]),
            [
                "--skip",
                "peers::ten_thousand_webhooks_due_at_once_are_all_delivered"
            ]
        );
    }

    /// Every filter still names a test or a module of tests, so a renamed test cannot silently
    /// stop being skipped: `a::b` is a `fn b` in a file `a.rs`, `a::` a file `a.rs` or a folder
    /// `a`, `a::b::` a folder `a/b`.
    #[test]
    fn every_filter_names_something_that_exists() {
        // The workspace's Rust files, and the folders holding them.
        let root = crate::project::root();
        let files = crate::project::workspace_files().unwrap_or_else(|e| panic!("{e}"));
        let rs = files
            .iter()
            .filter(|file| file.extension().is_some_and(|e| e == "rs"));
        let paths: std::collections::BTreeSet<&std::path::Path> = rs
            .flat_map(|file| file.ancestors())
            .filter(|p| p.starts_with("crates") || p.starts_with("tests"))
            .collect();
        for (filter, _) in LOAD.iter().chain(MEDIA) {
            let segments: Vec<&str> = filter.split("::").collect();
            let found = match segments.as_slice() {
                [module, ""] => paths
                    .iter()
                    .any(|p| p.file_stem().is_some_and(|s| s == *module) || p.ends_with(module)),
                [parent, module, ""] => paths
                    .iter()
                    .any(|p| p.ends_with(format!("{parent}/{module}"))),
                [module, test] => paths.iter().any(|p| {
                    p.file_stem().is_some_and(|s| s == *module)
                        && std::fs::read_to_string(root.join(p))
                            .is_ok_and(|text| text.contains(&format!("fn {test}(")))
                }),
                _ => false,
            };
            assert!(found, "{filter} names no test or module of tests");
        }
    }
}
