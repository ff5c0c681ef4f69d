//! The arguments of `cargo xtask mutants`: which packages the suite tests, which mutations run.

use clap::builder::PossibleValuesParser;

use super::mutations::{MUTATIONS, Mutation};

/// What `cargo xtask mutants` was asked to do.
#[derive(clap::Args, Default)]
pub(crate) struct Options {
    /// Test only this package (repeatable) instead of the workspace without xtask; for
    /// development while another crate does not build: it proves nothing
    #[arg(short, long = "package", value_name = "NAME")]
    pub(super) packages: Vec<String>,
    /// Run only this mutation (repeatable)
    #[arg(short = 'm', long = "mutation", value_name = "NAME", value_parser = PossibleValuesParser::new(MUTATIONS.iter().map(|mutation| mutation.name)))]
    only: Vec<String>,
    /// Every mutation against the whole suite with --no-fail-fast (as ci ran it before the
    /// stages): slower, lists every test that catches each mutation, for the committed map; without
    /// it each mutation tries the tests that caught it before, then the spec-reading tests, and
    /// the whole suite only if both pass
    #[arg(long)]
    pub(super) full: bool,
}

impl Options {
    pub(super) fn selected(&self) -> Vec<&'static Mutation> {
        MUTATIONS
            .iter()
            .filter(|mutation| self.only.is_empty() || self.only.iter().any(|n| n == mutation.name))
            .collect()
    }

    /// Whether `package`'s tests are in the run.
    pub(super) fn includes(&self, package: &str) -> bool {
        self.packages.is_empty() || self.packages.iter().any(|p| p == package)
    }

    /// The arguments after `cargo test` that pick what runs.
    pub(super) fn scope(&self) -> Vec<String> {
        if self.packages.is_empty() {
            ["--workspace", "--exclude", "xtask"]
                .map(String::from)
                .to_vec()
        } else {
            self.packages
                .iter()
                .flat_map(|package| ["--package".to_string(), package.clone()])
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_select_packages_and_mutations() {
        let parse = crate::parse::<Options>;
        let options =
            parse(&["-p", "a", "--mutation", "narrow-pitch"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(options.scope(), ["--package", "a"]);
        let names: Vec<&str> = options.selected().iter().map(|m| m.name).collect();
        assert_eq!(names, ["narrow-pitch"]);
        assert_eq!(
            Options::default().scope(),
            ["--workspace", "--exclude", "xtask"]
        );
        assert!(parse(&["--mutation", "nope"]).is_err());
        assert!(parse(&["--package"]).is_err());
        assert!(!options.full && options.includes("a") && !options.includes("b"));
        let full = parse(&["--full"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(full.full && full.includes("anything"));
    }
}
