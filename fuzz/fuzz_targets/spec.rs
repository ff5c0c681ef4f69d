//! Fuzz target `spec`: any text (bytes read as UTF-8, lossily) given to the codegen's public
//! entry, `musicgpt_cover_codegen::generate`, which the client's build script calls with
//! openapi.yaml. A spec it cannot handle must come back as an `Err`, never as a panic.
//!
//! The codegen catches progenitor's own panics (progenitor 0.15 meets much it does not support
//! with a `todo!`) and returns them as `CodegenError::ProgenitorPanicked`. libFuzzer's panic hook
//! would abort on those before they are caught, so this target replaces it: a panic is only
//! noted, and one that escapes `generate` is printed and aborts, as libFuzzer's would.

#![no_main]

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use libfuzzer_sys::fuzz_target;

thread_local! {
    /// The last panic on this thread, as the default hook would print it.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fuzz_target!(
    init: {
        panic::set_hook(Box::new(|info| {
            let backtrace = std::backtrace::Backtrace::capture();
            let text = format!("thread '<fuzz>' {info}\n{backtrace}");
            LAST_PANIC.with(|last| *last.borrow_mut() = text);
        }));
    },
    |data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        // Ok or Err are both fine; only a panic out of `generate` is a finding.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let _ = musicgpt_cover_codegen::generate(&text);
        }));
        if outcome.is_err() {
            LAST_PANIC.with(|last| eprintln!("{}", last.borrow()));
            std::process::abort();
        }
    }
);
