//! After the load: wait, within a bound, until every task the mock keeps is final and no webhook
//! is pending, reading the admin API (`/__admin/tasks`, `/__admin/webhooks`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use musicgpt_cover::types::ConversionStatus;
use musicgpt_cover_mock::ADMIN_PATH;
use serde::Deserialize;
use serde_json::Value;

use crate::common::http1::{Client, request};

/// How often the admin API is asked again.
const POLL: Duration = Duration::from_millis(100);

/// `GET /__admin/webhooks`'s `totals`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct Totals {
    pub(crate) due: u64,
    pub(crate) pending: u64,
    pub(crate) delivered: u64,
    pub(crate) failed: u64,
    pub(crate) refused: u64,
    pub(crate) dropped: u64,
}

pub(crate) struct Drained {
    /// Tasks the store keeps at the end, by status.
    pub(crate) statuses: BTreeMap<String, u64>,
    pub(crate) kept: u64,
    /// Whether they were all final within the bound, and how long after the load that took.
    pub(crate) all_final: bool,
    pub(crate) final_after: Duration,
    pub(crate) totals: Totals,
    /// Whether no webhook was pending within the bound, and how long after the load that took.
    pub(crate) settled: bool,
    pub(crate) settled_after: Duration,
}

/// Waits until every task is final, then until no webhook is pending, both by `deadline`.
pub(crate) async fn drain(mock: SocketAddr, deadline: Instant) -> Result<Drained, String> {
    let started = Instant::now();
    let mut admin = Client::new(mock);
    let (statuses, all_final) = loop {
        let tasks = get(&mut admin, mock, &format!("{ADMIN_PATH}/tasks")).await?;
        let mut statuses = BTreeMap::<String, u64>::new();
        for task in tasks["tasks"]
            .as_array()
            .ok_or_else(|| format!("{ADMIN_PATH}/tasks lists no tasks"))?
        {
            let status = task["status"].as_str().unwrap_or("(none)");
            *statuses.entry(status.to_owned()).or_default() += 1;
        }
        let all_final = statuses
            .keys()
            .all(|s| ConversionStatus::from(s.as_str()).is_final());
        if all_final || Instant::now() >= deadline {
            break (statuses, all_final);
        }
        tokio::time::sleep(POLL).await;
    };
    let final_after = started.elapsed();
    let (totals, settled) = loop {
        let webhooks = get(&mut admin, mock, &format!("{ADMIN_PATH}/webhooks")).await?;
        let totals = Totals::deserialize(&webhooks["totals"])
            .map_err(|e| format!("{ADMIN_PATH}/webhooks: totals: {e}"))?;
        if (all_final && totals.pending == 0) || Instant::now() >= deadline {
            break (totals, totals.pending == 0);
        }
        tokio::time::sleep(POLL).await;
    };
    Ok(Drained {
        kept: statuses.values().sum(),
        statuses,
        all_final,
        final_after,
        totals,
        settled,
        settled_after: started.elapsed(),
    })
}

async fn get(admin: &mut Client, mock: SocketAddr, path: &str) -> Result<Value, String> {
    let answer = admin
        .send(&request("GET", path, &[("host", &mock.to_string())], &[]))
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    if answer.status != 200 {
        return Err(format!("GET {path} answered {}", answer.status));
    }
    serde_json::from_slice(&answer.body).map_err(|e| format!("GET {path}: not JSON: {e}"))
}
