//! The arguments of `cargo xtask mutants`: which packages the suite tests, which mutations run.

use super::mutations::{MUTATIONS, Mutation};
use crate::{Error, Result};

/// What `cargo xtask mutants` was asked to do.
#[derive(Default)]
pub(super) struct Options {
    /// Test only these packages instead of the workspace: for developing a mutation or the tool
    /// while some crate does not build. Such a run proves nothing about the whole suite.
    pub(super) packages: Vec<String>,
    /// Run only these mutations.
    only: Vec<String>,
    /// Every mutation against the whole suite, `--no-fail-fast`, as before stages existed: the
    /// complete list of catchers, for the committed map (`stages`).
    pub(super) full: bool,
}

impl Options {
    pub(super) fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--full" {
                options.full = true;
                continue;
            }
            let list = match arg.as_str() {
                "--package" | "-p" => &mut options.packages,
                "--mutation" | "-m" => &mut options.only,
                other => {
                    return Err(Error::new(format!(
                        "`cargo xtask mutants` does not know `{other}`\n\n{USAGE}"
                    )));
                }
            };
            let value = args
                .next()
                .ok_or_else(|| Error::new(format!("`{arg}` needs a value\n\n{USAGE}")))?;
            list.push(value.clone());
        }
        let unknown: Vec<&String> = options
            .only
            .iter()
            .filter(|name| !MUTATIONS.iter().any(|mutation| mutation.name == **name))
            .collect();
        if let Some(name) = unknown.first() {
            let names: Vec<&str> = MUTATIONS.iter().map(|mutation| mutation.name).collect();
            return Err(Error::new(format!(
                "there is no mutation `{name}`; the mutations are: {}",
                names.join(", ")
            )));
        }
        Ok(options)
    }

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

const USAGE: &str = "\
usage: cargo xtask mutants [--full] [--package NAME]... [--mutation NAME]...

  --full               every mutation against the whole suite with --no-fail-fast (as ci ran it
                       before the stages): slower, lists every test that catches each mutation;
                       without it each mutation tries the tests that caught it before, then the
                       spec-reading tests, and the whole suite only if both pass
  --package, -p NAME   test only this package (repeatable) instead of the workspace without xtask;
                       for development while another crate does not build: it proves nothing
  --mutation, -m NAME  run only this mutation (repeatable)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_select_packages_and_mutations() {
        let args: Vec<String> = ["-p", "a", "--mutation", "narrow-pitch"]
            .map(String::from)
            .to_vec();
        let options = match Options::parse(&args) {
            Ok(options) => options,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(options.scope(), ["--package", "a"]);
        let names: Vec<&str> = options.selected().iter().map(|m| m.name).collect();
        assert_eq!(names, ["narrow-pitch"]);
        assert_eq!(
            Options::default().scope(),
            ["--workspace", "--exclude", "xtask"]
        );
        assert!(Options::parse(&["--mutation".to_string(), "nope".to_string()]).is_err());
        assert!(Options::parse(&["--package".to_string()]).is_err());
        assert!(!options.full && options.includes("a") && !options.includes("b"));
        let full = Options::parse(&["--full".to_string()]).unwrap_or_else(|e| panic!("{e}"));
        assert!(full.full && full.includes("anything"));
    }
}
