//! The grammar both command lines share: `--flag value` or `--flag=value`, `-h`/`--help`, and
//! numbers within bounds.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::process::ExitCode;
use std::str::FromStr;

/// Hands each flag in `args` to `on`, with a way to take its value (the next argument, or what
/// follows `=`); `cargo bench`'s `--bench` is skipped. `Ok(false)` for `-h` or `--help`.
pub(crate) fn walk(
    args: impl Iterator<Item = String>,
    mut on: impl FnMut(&str, &mut dyn FnMut() -> Result<String, String>) -> Result<(), String>,
) -> Result<bool, String> {
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            // `cargo bench` adds `--bench` to a harness-less target's arguments.
            "--bench" => {}
            "-h" | "--help" => return Ok(false),
            _ => on(&flag, &mut value)?,
        }
    }
    Ok(true)
}

/// The options `parse` made of the command line, or the exit status after `--help` (the usage)
/// or a bad option (the error and the usage, and 2).
pub(crate) fn parsed<T>(parse: Result<Option<T>, String>, usage: &str) -> Result<T, ExitCode> {
    match parse {
        Ok(Some(options)) => Ok(options),
        Ok(None) => {
            print!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// `value` as a whole number within `range`.
pub(crate) fn whole<T>(flag: &str, value: &str, range: RangeInclusive<T>) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display,
{
    match value.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number from {} to {}, got {value:?}",
            range.start(),
            range.end()
        )),
    }
}

/// `value` as a number within `range`.
pub(crate) fn number(flag: &str, value: &str, range: RangeInclusive<f64>) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && range.contains(&n) => Ok(n),
        _ => Err(format!(
            "{flag} must be a number from {} to {}, got {value:?}",
            range.start(),
            range.end()
        )),
    }
}
