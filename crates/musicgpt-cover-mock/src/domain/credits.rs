//! API keys, their credit balances, and what a Cover costs.
//!
//! Unrestricted (no `--api-key`): any non-empty key is accepted and gets the default balance the
//! first time it is charged; at most `key_capacity` such balances are kept, the oldest forgotten
//! first. Restricted: only the configured keys (and keys the admin API gives a balance) pass.
//! Balances are counted in hundredths of a credit, so repeated charges do not drift.
//!
//! A key is at most [`MAX_KEY_BYTES`] bytes of visible ASCII ([`check_key`]). The ledger holds no
//! other: it is the one place balances are stored, so bounding keys here bounds its bytes (10,000
//! keys of at most 256 bytes), whatever path a key comes in by.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;

use super::ids::IdHasher;
use crate::config::{ApiKey, MockConfig};

/// The longest API key, in bytes. Real keys are tokens of a few dozen characters; 256 leaves
/// room for any of them and keeps a full ledger small.
pub(crate) const MAX_KEY_BYTES: usize = 256;

/// Why a request's key was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// No `Authorization` header, or an empty one: 401.
    Missing,
    /// A key the mock does not accept: 403.
    Refused,
    /// A key sent as `Bearer KEY`, which the API does not take: 403, saying to send the raw key.
    Bearer,
    /// A value that cannot be a key at all: 403, saying why.
    Malformed(KeyError),
}

/// Why a value cannot be an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error(
        "the API key is {0} bytes long; a key is at most {MAX_KEY_BYTES} bytes of visible ASCII (letters, digits and punctuation)"
    )]
    TooLong(usize),
    #[error(
        "the API key holds a space, a control character or a byte over 0x7E; a key is at most {MAX_KEY_BYTES} bytes of visible ASCII (letters, digits and punctuation)"
    )]
    NotVisible,
}

/// Whether `key` can be an API key: 1 to [`MAX_KEY_BYTES`] bytes, each visible ASCII (`!` to
/// `~`). (An empty key is the caller's to answer: it means no key was sent.)
pub(crate) fn check_key(key: &[u8]) -> Result<(), KeyError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong(key.len()));
    }
    if !key.iter().all(u8::is_ascii_graphic) {
        return Err(KeyError::NotVisible);
    }
    Ok(())
}

/// Credits in hundredths.
pub(crate) type Cents = u64;

pub(crate) fn to_cents(credits: f64) -> Cents {
    if credits.is_finite() && credits > 0.0 {
        (credits * 100.0).round() as Cents
    } else {
        0
    }
}

pub(crate) fn from_cents(cents: Cents) -> f64 {
    cents as f64 / 100.0
}

/// The credit estimate for an eta at the rate of the spec's example (`Spec::cover_rate`:
/// `seconds` for `credits`), taken to the whole second a credit (71 s for 1.27: 55.9, so a
/// credit per 56 s), rounded up to the hundredth.
pub(crate) fn estimate(eta: u64, (seconds, credits): (u64, f64)) -> Cents {
    let per_credit = ((seconds as f64 / credits).round() as u64).max(1);
    (eta * 100).div_ceil(per_credit)
}

#[derive(Debug)]
pub(crate) struct Ledger {
    restricted: bool,
    default: Cents,
    configured: Vec<ApiKey>,
    balances: HashMap<String, Cents, BuildHasherDefault<IdHasher>>,
    /// Keys that got a balance automatically, oldest first: the ones forgotten when full.
    automatic: VecDeque<String>,
    capacity: usize,
}

impl Ledger {
    pub(crate) fn new(config: &MockConfig) -> Ledger {
        let mut ledger = Ledger {
            restricted: !config.mock.api_keys.is_empty(),
            default: to_cents(config.mock.default_credits),
            configured: config.mock.api_keys.clone(),
            balances: HashMap::default(),
            automatic: VecDeque::new(),
            capacity: config.mock.key_capacity,
        };
        ledger.reset();
        ledger
    }

    pub(crate) fn reset(&mut self) {
        self.balances.clear();
        self.automatic.clear();
        for key in &self.configured {
            // A configured key that cannot be a key could never be sent; it is not stored either.
            if check_key(key.key.as_bytes()).is_err() {
                continue;
            }
            let cents = key.credits.map_or(self.default, to_cents);
            self.balances.insert(key.key.clone(), cents);
        }
    }

    pub(crate) fn restricted(&self) -> bool {
        self.restricted
    }

    pub(crate) fn default_balance(&self) -> Cents {
        self.default
    }

    pub(crate) fn authorize(&self, key: &str) -> Result<(), AuthError> {
        check_key(key.as_bytes()).map_err(AuthError::Malformed)?;
        if self.restricted && !self.balances.contains_key(key) {
            return Err(AuthError::Refused);
        }
        Ok(())
    }

    /// Takes `cost` from the key's balance; `Err(balance)` when it is too low.
    /// A key that cannot be a key gets no balance and is refused as having none.
    pub(crate) fn charge(&mut self, key: &str, cost: Cents) -> Result<Cents, Cents> {
        if !self.balances.contains_key(key) {
            if self.restricted || check_key(key.as_bytes()).is_err() {
                return Err(0);
            }
            while self.automatic.len() >= self.capacity
                && let Some(old) = self.automatic.pop_front()
            {
                self.balances.remove(&old);
            }
            self.balances.insert(key.to_owned(), self.default);
            self.automatic.push_back(key.to_owned());
        }
        match self.balances.get_mut(key) {
            Some(balance) if *balance >= cost => {
                *balance -= cost;
                Ok(*balance)
            }
            Some(balance) => Err(*balance),
            None => Err(0),
        }
    }

    /// Sets a balance; the key is accepted from then on, and never forgotten. A key that cannot
    /// be a key is not stored: false. (A `bool`, not a `Result`: callers that checked the key
    /// with [`check_key`] first have nothing to handle.)
    pub(crate) fn set(&mut self, key: &str, cents: Cents) -> bool {
        if check_key(key.as_bytes()).is_err() {
            return false;
        }
        self.automatic.retain(|k| k != key);
        self.balances.insert(key.to_owned(), cents);
        true
    }

    /// The balance of a key, if it is accepted.
    pub(crate) fn balance(&self, key: &str) -> Option<Cents> {
        if check_key(key.as_bytes()).is_err() {
            return None;
        }
        (self.balances.get(key).copied()).or((!self.restricted).then_some(self.default))
    }

    pub(crate) fn balances(&self) -> Vec<(String, Cents)> {
        let mut all: Vec<_> = self.balances.iter().map(|(k, v)| (k.clone(), *v)).collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_keys_and_balances() {
        let config = MockConfig::new().funded_api_key("k", 1.5).api_key("rich");
        let mut ledger = Ledger::new(&config);
        assert_eq!(ledger.authorize("other"), Err(AuthError::Refused));
        assert_eq!(ledger.charge("k", 100), Ok(50));
        assert_eq!(ledger.charge("k", 100), Err(50));
        assert!(ledger.set("k", 1000));
        assert_eq!(ledger.charge("k", 100), Ok(900));
        assert!(ledger.set("new", 5));
        assert_eq!(ledger.authorize("new"), Ok(()));
        ledger.reset();
        assert_eq!(ledger.balance("k"), Some(150));
        assert_eq!(ledger.balance("new"), None);
    }

    #[test]
    fn unrestricted_balances_are_bounded() {
        let mut ledger = Ledger::new(&MockConfig::new().key_capacity(2).default_credits(10.0));
        for key in ["a", "b", "c"] {
            assert_eq!(ledger.charge(key, 100), Ok(900));
        }
        assert_eq!(ledger.balances().len(), 2);
        assert_eq!(ledger.balance("a"), Some(1000));
    }

    #[test]
    fn no_path_stores_a_key_that_cannot_be_one() {
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        let longest = "k".repeat(MAX_KEY_BYTES);
        let mut ledger = Ledger::new(&MockConfig::new().api_key(long.clone()));
        assert!(
            ledger.balances().is_empty(),
            "a configured key over the bound"
        );
        let mut open = Ledger::new(&MockConfig::new());
        for bad in [long.as_str(), "two words", "tab\there", "caf\u{e9}"] {
            assert!(matches!(open.authorize(bad), Err(AuthError::Malformed(_))));
            assert_eq!(open.charge(bad, 1), Err(0));
            assert!(!open.set(bad, 5));
            assert_eq!(open.balance(bad), None);
            assert!(!ledger.set(bad, 5));
        }
        assert!(open.balances().is_empty());
        assert_eq!(
            check_key(long.as_bytes()),
            Err(KeyError::TooLong(MAX_KEY_BYTES + 1))
        );
        assert_eq!(open.authorize(&longest), Ok(()));
        assert_eq!(open.charge(&longest, 1).map(|_| ()), Ok(()));
        assert_eq!(open.balances().len(), 1);
    }

    #[test]
    fn estimate_matches_the_spec_example() {
        let rate = crate::spec::spec().expect("the spec").cover_rate;
        assert_eq!(rate, (71, 1.27));
        assert_eq!(estimate(71, rate), 127);
        // A credit per 56 s: 1.5 credits for 84 s, 0.36 for 20.
        assert_eq!(estimate(84, rate), 150);
        assert_eq!(estimate(20, rate), 36);
    }
}
