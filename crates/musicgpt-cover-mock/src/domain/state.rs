//! The shared state of one mock: tasks, keys, journal, webhooks, clock and random generator, and
//! the handle ([`MockState`]) that routes, the admin API and embedding tests use.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::{CancellationToken, DropGuard};
use uuid::Uuid;

use super::clock::{Clock, SEED_EPOCH, VTime};
use super::credits::{AuthError, Cents, Ledger, check_key, estimate, from_cents, to_cents};
use super::faults::{Decision, FaultError, FaultSettings, Faults, NewScenario, Scenario};
use super::journal::{FormRecord, KeptAnswer};
use super::journal::{Journal, JournalEntry, JournalKind, LaterAnswer, Slot, WebhookEvent};
use super::render::TaskFill;
use super::replay::{RecordedFill, Replay, key};
use super::scheduler::{Settle, run_scheduler};
use super::store::TaskStore;
use super::sync::{lock, read, write};
use super::tasks::{FinishError, NewTask, Outcome, Status, Task, TaskView};
use super::uploads::UploadStore;
use super::webhooks::{
    Delivery, DeliveryState, Release, SenderShared, Transport, WebhookDelivery, WebhookLog,
    WebhookTotals, check_target, run_sender,
};
use crate::config::{ClockMode, MAX_JOURNAL_BYTES, MAX_TASK_BYTES, MockConfig};
use crate::error::MockError;
use crate::spec::{Field, Operation, Spec};

/// Shortest and longest eta a task is given, in seconds (the spec's examples: 33 and 71).
pub const ETA_SECONDS: std::ops::RangeInclusive<u64> = 20..=90;

/// The state of one mock server. Cheap to clone; every clone is the same mock.
///
/// Created inside a Tokio runtime: it starts the task scheduler and the webhook sender, which
/// stop when the last clone is dropped (or the server shuts down).
#[derive(Clone, Debug)]
pub struct MockState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    config: MockConfig,
    spec: &'static Spec,
    clock: Arc<Clock>,
    seed: u64,
    rng: Mutex<StdRng>,
    tasks: Mutex<TaskStore>,
    /// Uploaded songs and their result files; the task store deletes a task's with it.
    uploads: Arc<UploadStore>,
    /// The virtual time the scheduler sleeps until (under the task lock's protection: written
    /// while it is held), so a new task due earlier wakes it.
    scheduled: AtomicU64,
    ledger: Mutex<Ledger>,
    journal: Mutex<Journal>,
    webhooks: Arc<Mutex<WebhookLog>>,
    webhook_tx: mpsc::UnboundedSender<Delivery>,
    sender: Arc<SenderShared>,
    wake: Arc<Notify>,
    origin: RwLock<String>,
    /// What the admin API requires, if anything (see [`MockState::require_admin_token`]).
    admin_token: RwLock<Option<String>>,
    /// Latency, failure rates and one-shot scenarios (`faults`).
    faults: Faults,
    /// The recording answered from (`--replay`).
    replay: Option<Replay>,
    cancel: CancellationToken,
    _stop_on_drop: DropGuard,
}

/// Why a Cover made no task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateError {
    /// The key's balance (below the estimate): 402.
    Insufficient(Cents),
    /// The store has no room (in places or in bytes) that evicting a finished task whose
    /// webhook is settled could make: 429.
    Full(usize),
}

/// What the answer to an accepted Cover reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Created {
    pub(crate) task_id: Uuid,
    pub(crate) conversion_id: Uuid,
    pub(crate) eta: u64,
    pub(crate) cost: Cents,
}

/// What was left undone when a server stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShutdownReport {
    /// Webhooks queued, in flight, waiting to retry, or of tasks not finished yet.
    pub pending_webhooks: Vec<PendingWebhook>,
}

/// A webhook that was not delivered when the server stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingWebhook {
    /// The task it reports.
    pub task_id: String,
    /// Where it was to go.
    pub url: String,
    /// `queued or retrying` or `task not finished`.
    pub state: String,
    /// Attempts made so far.
    pub attempts: usize,
}

/// [`MockState::wait_for_webhook`] gave up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no final webhook delivery for task {task_id} within {waited:?} (last seen: {last:?})")]
pub struct WaitTimeout {
    /// The task waited for.
    pub task_id: String,
    /// How long it waited.
    pub waited: Duration,
    /// The delivery as it last stood, if there was one.
    pub last: Option<WebhookDelivery>,
}

impl MockState {
    /// Builds a mock from `config` whose webhooks are POSTed through `transport`: checks the
    /// config, compiles the embedded spec (once per process) and starts the scheduler and webhook
    /// sender on the current Tokio runtime. [`MockState::new`] is this with the HTTP layer's
    /// client, wired in `server.rs` (the domain holds no HTTP client).
    pub(crate) fn with_transport(
        config: MockConfig,
        transport: Arc<dyn Transport>,
    ) -> Result<MockState, MockError> {
        config.validate().map_err(MockError::Config)?;
        // A configured key no client could send (the ledger would skip it) is a mistake to say.
        for (n, key) in config.mock.api_keys.iter().enumerate() {
            check_key(key.key.as_bytes()).map_err(|e| {
                MockError::Config(format!(
                    "API key {} of {}: {e}",
                    n + 1,
                    config.mock.api_keys.len()
                ))
            })?;
        }
        let spec = crate::spec::spec().map_err(MockError::Spec)?;
        check_statuses(spec).map_err(MockError::Spec)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MockError::NoRuntime)?;
        let frozen = config.clock_mode() == ClockMode::Frozen;
        let epoch = (config.mock.seed)
            .and_then(|_| DateTime::parse_from_rfc3339(SEED_EPOCH).ok())
            .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
        let clock = Arc::new(Clock::new(epoch, frozen));
        let seed = config
            .mock
            .seed
            .unwrap_or_else(|| Uuid::new_v4().as_u64_pair().0);
        let faults = Faults::new(&config, spec, seed).map_err(MockError::Config)?;
        let replay = match &config.mock.replay {
            Some(dir) => Some(Replay::load(dir, spec).map_err(MockError::Config)?),
            None => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let webhooks = Arc::new(Mutex::new(WebhookLog::new(
            config.mock.webhook_log_capacity,
        )));
        let sender = Arc::new(SenderShared {
            log: Arc::clone(&webhooks),
            changed: Arc::new(Notify::new()),
            clock: Arc::clone(&clock),
            generation: Arc::new(AtomicU64::new(0)),
            attempts: config.mock.webhook_attempts,
            backoff: config.mock.webhook_backoff.0,
        });
        let cancel = CancellationToken::new();
        let uploads = Arc::new(UploadStore::default());
        let origin = config
            .mock
            .public_url
            .clone()
            .unwrap_or_else(|| spec.default_origin.clone());
        let inner = Arc::new(Inner {
            spec,
            clock: Arc::clone(&clock),
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            tasks: Mutex::new(
                TaskStore::new(config.mock.task_capacity, MAX_TASK_BYTES)
                    .with_uploads(Arc::clone(&uploads)),
            ),
            uploads: Arc::clone(&uploads),
            scheduled: AtomicU64::new(u64::MAX),
            ledger: Mutex::new(Ledger::new(&config)),
            journal: Mutex::new(Journal::new(
                config.server.journal_capacity,
                MAX_JOURNAL_BYTES,
            )),
            webhooks,
            webhook_tx: tx,
            sender: Arc::clone(&sender),
            wake: Arc::new(Notify::new()),
            origin: RwLock::new(origin.trim_end_matches('/').to_owned()),
            admin_token: RwLock::new(config.server.admin_token.clone()),
            faults,
            replay,
            cancel: cancel.clone(),
            _stop_on_drop: cancel.clone().drop_guard(),
            config,
        });
        runtime.spawn(run_scheduler(
            Arc::downgrade(&inner),
            clock,
            Arc::clone(&inner.wake),
            cancel.clone(),
        ));
        let release: Weak<dyn Release> = Arc::downgrade(&inner) as Weak<Inner>;
        runtime.spawn(run_sender(rx, sender, transport, release, cancel));
        Ok(MockState { inner })
    }

    pub(crate) fn spec(&self) -> &'static Spec {
        self.inner.spec
    }

    /// The settings this mock runs with.
    pub fn config(&self) -> &MockConfig {
        &self.inner.config
    }

    /// The origin result-file URLs start with (`http://127.0.0.1:PORT`).
    pub fn origin(&self) -> String {
        read(&self.inner.origin).clone()
    }

    /// Sets the origin of result-file URLs, unless the config fixed one (`public_url`).
    pub(crate) fn set_listen_origin(&self, origin: String) {
        if self.inner.config.mock.public_url.is_none() {
            *write(&self.inner.origin) = origin;
        }
    }

    /// The token the admin API requires, if it requires one.
    pub fn admin_token(&self) -> Option<String> {
        read(&self.inner.admin_token).clone()
    }

    /// Makes the admin API require a token from now on: the configured one, else a random one,
    /// which is returned (a server on a non-loopback address does this itself).
    pub fn require_admin_token(&self) -> String {
        let mut token = write(&self.inner.admin_token);
        token
            .get_or_insert_with(|| Uuid::new_v4().simple().to_string())
            .clone()
    }

    /// The server stopped: the background work ends (the scheduler, the webhook sender) and the
    /// uploads go, their directory too, before this returns.
    pub(crate) fn stop(&self) {
        self.inner.cancel.cancel();
        self.inner.uploads.shut_down();
    }

    pub(crate) fn authorize(&self, key: &str) -> Result<(), AuthError> {
        lock(&self.inner.ledger).authorize(key)
    }

    pub(crate) fn restricted(&self) -> bool {
        lock(&self.inner.ledger).restricted()
    }

    /// Uploaded songs: where a Cover's `audio_file` is written, kept for its task and converted.
    pub(crate) fn uploads(&self) -> &Arc<UploadStore> {
        &self.inner.uploads
    }

    /// Charges the key and queues a task; `Err(balance)` when the balance is too low.
    #[cfg(test)]
    pub(crate) fn create_task(&self, new: NewTask) -> Result<Created, CreateError> {
        self.create_task_lasting(new, super::audio::DURATION_SECONDS)
    }

    /// `create_task` for a task whose result lasts `duration` seconds (its
    /// `conversion_duration`: an upload's, from its probe, `uploads::Incoming::probe`); known
    /// before the task exists, so no answer or webhook ever shows another.
    pub(crate) fn create_task_lasting(
        &self,
        new: NewTask,
        duration: f64,
    ) -> Result<Created, CreateError> {
        let inner = &self.inner;
        let (task_id, conversion_id, eta) = {
            let mut rng = lock(&inner.rng);
            let task_id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
            let conversion_id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
            (task_id, conversion_id, rng.random_range(ETA_SECONDS))
        };
        let cost = estimate(eta, inner.spec.cover_rate);
        // A place first, then the charge, under the store's lock (the ledger's is only ever taken
        // inside it, never the other way round): a refused task costs nothing.
        let mut tasks = lock(&inner.tasks);
        if !tasks.make_room(new.weight()) {
            return Err(CreateError::Full(inner.config.mock.task_capacity));
        }
        lock(&inner.ledger)
            .charge(&new.api_key, cost)
            .map_err(CreateError::Insufficient)?;
        let now = inner.clock.now();
        let run_ms = (eta as f64 * 1000.0 * inner.config.mock.time_scale).round() as VTime;
        // A task final at once (time scale 0) that sends no webhook needs nothing from the
        // scheduler: it is settled, so evictable, as it is stored, and the scheduler is not woken
        // for it (at time scale 0 it was, for every Cover).
        let settled =
            run_ms == 0 && !(new.outcome == Outcome::Completed && new.webhook_url.is_some());
        let task = Task {
            seq: tasks.next_seq(),
            task_id,
            conversion_id,
            request: new,
            eta,
            cost,
            duration,
            created_at: now,
            processing_at: now + run_ms / 4,
            finished_at: now + run_ms,
            settled,
            webhook_pending: false,
        };
        let created = Created {
            task_id,
            conversion_id,
            eta,
            cost,
        };
        let finished_at = task.finished_at;
        if tasks.insert(task).is_err() {
            // `make_room` just made a place under the same lock.
            return Err(CreateError::Full(inner.config.mock.task_capacity));
        }
        if !settled && finished_at < inner.scheduled.load(Ordering::Acquire) {
            inner.scheduled.store(finished_at, Ordering::Release);
            inner.wake.notify_one();
        }
        Ok(created)
    }

    /// Renders byId's 200 for the task `find` picks.
    pub(crate) fn render_conversion(
        &self,
        find: impl FnOnce(&TaskStore) -> Option<&Task>,
    ) -> Option<Vec<u8>> {
        let inner = &self.inner;
        let origin = read(&inner.origin);
        let tasks = lock(&inner.tasks);
        let task = find(&tasks)?;
        let fill = TaskFill {
            task,
            now: inner.clock.now(),
            clock: &inner.clock,
            spec: inner.spec,
            origin: &origin,
            webhook: false,
        };
        Some(inner.spec.conversion_ok.render(&fill))
    }

    /// The task id and pitch of a completed conversion; else its status, or `None` when unknown.
    pub(crate) fn completed_pitch(
        &self,
        conversion_id: &Uuid,
    ) -> Result<(Uuid, i64), Option<Status>> {
        let now = self.inner.clock.now();
        let tasks = lock(&self.inner.tasks);
        let task = tasks.by_conversion(conversion_id).ok_or(None)?;
        match task.status(now) {
            Status::Completed => Ok((task.task_id, task.request.pitch)),
            other => Err(Some(other)),
        }
    }

    /// Records a request, given as the JSON of its [`RequestRecord`](crate::RequestRecord).
    pub(crate) fn journal_request(&self, record: String) -> Slot {
        let at = self.inner.clock.now();
        lock(&self.inner.journal).push(at, JournalKind::Request, record)
    }

    /// Replaces a journalled request's text with its text now (the answer added, once sent).
    pub(crate) fn journal_answer(&self, slot: Slot, record: String) {
        lock(&self.inner.journal).replace(slot, record);
    }

    /// Adds a journalled request's answer, once sent, to be written out when the journal is read.
    pub(crate) fn journal_sent(&self, slot: Slot, answer: Box<dyn LaterAnswer>) {
        lock(&self.inner.journal).answer(slot, answer);
    }

    /// The journal, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.inner.journal).entries(&self.inner.clock, None)
    }

    /// The last `n` journal entries, oldest first.
    pub fn journal_tail(&self, n: usize) -> Vec<JournalEntry> {
        lock(&self.inner.journal).entries(&self.inner.clock, Some(n))
    }

    /// `{"entries":[...]}`, for the admin API.
    pub(crate) fn journal_json(&self, last: Option<usize>) -> Vec<u8> {
        let journal = lock(&self.inner.journal);
        let mut out = Vec::with_capacity(journal.len() * 512 + 16);
        journal.write_json(&self.inner.clock, last, &mut out);
        out
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        lock(&self.inner.journal).clear();
    }

    /// Every webhook delivery record kept, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.inner.webhooks).all()
    }

    /// How many webhooks came due since the start (or the last reset), and what became of them.
    pub fn webhook_totals(&self) -> WebhookTotals {
        lock(&self.inner.webhooks).totals()
    }

    /// The webhook delivery of a task, by its task id.
    pub fn webhook_delivery(&self, task_id: &str) -> Option<WebhookDelivery> {
        let id = Uuid::try_parse(task_id).ok()?;
        lock(&self.inner.webhooks).get(&id).cloned()
    }

    /// Waits until the webhook of `task_id` is delivered, failed for good, refused or dropped,
    /// and returns its record (check [`WebhookDelivery::state`]).
    pub async fn wait_for_webhook(
        &self,
        task_id: &str,
        timeout: Duration,
    ) -> Result<WebhookDelivery, WaitTimeout> {
        let changed = Arc::clone(&self.inner.sender.changed);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let last = self.webhook_delivery(task_id);
            if let Some(d) = &last
                && d.state.is_final()
            {
                return Ok(d.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(WaitTimeout {
                    task_id: task_id.to_owned(),
                    waited: timeout,
                    last,
                });
            }
        }
    }

    /// Every task kept, oldest first, as it stands now.
    pub fn tasks(&self) -> Vec<TaskView> {
        let now = self.inner.clock.now();
        let views: Vec<TaskView> = lock(&self.inner.tasks)
            .all()
            .map(|t| t.view(now, &self.inner.clock))
            .collect();
        views.into_iter().map(|v| self.with_audio_note(v)).collect()
    }

    /// The view with what its upload's conversion says (taken outside the task lock).
    fn with_audio_note(&self, mut view: TaskView) -> TaskView {
        if let Ok(id) = Uuid::try_parse(&view.task_id) {
            view.audio = self.inner.uploads.note(&id);
        }
        view
    }

    /// A task by its task id or conversion id.
    pub fn task(&self, id: &str) -> Option<TaskView> {
        let id = Uuid::try_parse(id).ok()?;
        let now = self.inner.clock.now();
        let view = lock(&self.inner.tasks)
            .find(&id)
            .map(|t| t.view(now, &self.inner.clock));
        view.map(|v| self.with_audio_note(v))
    }

    /// Ends a task now (by task id or conversion id): `COMPLETED` sends its webhook.
    pub fn finish_task(&self, id: &str, outcome: Outcome) -> Result<TaskView, FinishError> {
        let uuid = Uuid::try_parse(id).map_err(|_| FinishError::NotFound)?;
        let now = self.inner.clock.now();
        lock(&self.inner.tasks).finish_now(&uuid, outcome, now)?;
        self.inner.wake.notify_one();
        // Settle at once, so the webhook is queued before this returns.
        self.inner.settle();
        self.task(id).ok_or(FinishError::NotFound)
    }

    /// Completes a task now.
    pub fn complete_task(&self, id: &str) -> Result<TaskView, FinishError> {
        self.finish_task(id, Outcome::Completed)
    }

    /// Moves the virtual clock forward; tasks due by then finish (and send their webhooks).
    /// Returns the new time.
    pub fn advance_clock(&self, by: Duration) -> String {
        let now = self.inner.clock.advance(by);
        self.inner.settle();
        self.inner.wake.notify_one();
        self.inner.clock.timestamp(now)
    }

    /// The virtual time now.
    pub fn now(&self) -> String {
        self.inner.clock.timestamp(self.inner.clock.now())
    }

    /// Whether the clock moves only when advanced.
    pub fn clock_frozen(&self) -> bool {
        self.inner.clock.frozen()
    }

    /// Sets a key's balance; in a restricted mock this also makes the key accepted.
    ///
    /// Returns `false`, changing nothing, when `key` cannot be an API key (empty, over 256
    /// bytes, or not visible ASCII): no client could send it.
    pub fn set_credits(&self, key: &str, credits: f64) -> bool {
        !key.is_empty() && lock(&self.inner.ledger).set(key, to_cents(credits))
    }

    /// A key's balance, or `None` if the key is not accepted.
    pub fn credits(&self, key: &str) -> Option<f64> {
        lock(&self.inner.ledger).balance(key).map(from_cents)
    }

    /// Every key that has a balance of its own, with it.
    pub fn all_credits(&self) -> Vec<(String, f64)> {
        lock(&self.inner.ledger)
            .balances()
            .into_iter()
            .map(|(k, c)| (k, from_cents(c)))
            .collect()
    }

    /// The balance a key starts with.
    pub fn default_credits(&self) -> f64 {
        from_cents(lock(&self.inner.ledger).default_balance())
    }

    /// Back to the start: no tasks, journal or webhook records, balances as configured, a frozen
    /// clock at its epoch, the random generator reseeded: with the same seed when `--seed` was
    /// given (so a seeded mock repeats itself), else with a fresh one (so an unseeded mock never
    /// hands out an id it handed out before the reset). Webhooks not yet sent are dropped. The fault
    /// settings go back to the start-up ones, and the scenarios are cleared.
    pub fn reset(&self) {
        let inner = &self.inner;
        inner.sender.generation.fetch_add(1, Ordering::AcqRel);
        lock(&inner.tasks).clear();
        inner.scheduled.store(u64::MAX, Ordering::Release);
        lock(&inner.journal).clear();
        lock(&inner.webhooks).clear();
        lock(&inner.ledger).reset();
        let seed = if inner.config.mock.seed.is_some() {
            inner.seed
        } else {
            Uuid::new_v4().as_u64_pair().0
        };
        *lock(&inner.rng) = StdRng::seed_from_u64(seed);
        inner.faults.reset(seed);
        if let Some(replay) = &inner.replay {
            replay.rewind();
        }
        inner.clock.reset();
        inner.wake.notify_one();
        inner.sender.changed.notify_waiters();
    }

    /// Webhooks not delivered yet: queued, in flight, retrying, or of unfinished tasks.
    pub fn pending_webhooks(&self) -> ShutdownReport {
        let mut pending: Vec<PendingWebhook> = lock(&self.inner.webhooks)
            .all()
            .into_iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .map(|d| PendingWebhook {
                task_id: d.task_id,
                url: d.url,
                state: "queued or retrying".to_owned(),
                attempts: d.attempts.len(),
            })
            .collect();
        let tasks = lock(&self.inner.tasks);
        let mut unfinished: Vec<&Task> = tasks.unsettled_with_webhook().collect();
        unfinished.sort_by_key(|t| t.seq);
        pending.extend(
            unfinished
                .into_iter()
                .filter(|t| t.request.outcome == Outcome::Completed)
                .map(|t| PendingWebhook {
                    task_id: t.task_id.to_string(),
                    url: t.request.webhook_url.clone().unwrap_or_default(),
                    state: "task not finished".to_owned(),
                    attempts: 0,
                }),
        );
        ShutdownReport {
            pending_webhooks: pending,
        }
    }

    /// How many tasks are kept now.
    pub fn task_count(&self) -> usize {
        lock(&self.inner.tasks).len()
    }
}

/// Faults on demand (`faults`): the settings and the one-shot scenarios.
impl MockState {
    /// The fault settings in force: latency and failure rates.
    pub fn faults(&self) -> FaultSettings {
        self.inner.faults.settings()
    }

    /// Replaces the fault settings (checked against the spec: an unknown operation, or a
    /// status the operation does not document, is refused).
    pub fn set_faults(&self, settings: FaultSettings) -> Result<(), FaultError> {
        self.inner.faults.set_settings(self.spec(), settings)
    }

    /// Adds a one-shot scenario, answered after those added before it.
    pub fn add_scenario(&self, scenario: NewScenario) -> Result<Scenario, FaultError> {
        self.inner.faults.add(self.spec(), scenario)
    }

    /// The scenarios waiting, in the order they apply.
    pub fn scenarios(&self) -> Vec<Scenario> {
        self.inner.faults.list()
    }

    /// Removes a scenario; `false` when there is none with that id.
    pub fn remove_scenario(&self, id: &str) -> bool {
        self.inner.faults.remove(id)
    }

    /// Removes every scenario.
    pub fn clear_scenarios(&self) {
        self.inner.faults.clear();
    }

    /// The fault decision for a request to `op`, if any applies.
    pub(crate) fn fault_decision(&self, op: &Operation) -> Option<Decision> {
        self.inner.faults.decide(op)
    }
}

/// Replaying a recording (`--replay`).
impl MockState {
    /// Whether the mock answers from a recording.
    pub(crate) fn replaying(&self) -> bool {
        self.inner.replay.is_some()
    }

    /// How many exchanges the recording has, and why those left out were.
    pub(crate) fn replay_summary(&self) -> Option<(usize, Vec<String>)> {
        self.inner
            .replay
            .as_ref()
            .map(|r| (r.loaded, r.skipped.clone()))
    }

    /// The recorded answer for a request, when the recording has one for its key (see
    /// `replay::key`). A replayed Cover whose form names a webhook URL sends its webhook when
    /// its task completes: as long after the Cover as in the recording, or when the poll that
    /// saw it completed is replayed, whichever comes first.
    pub(crate) fn replay_answer(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        form: Option<&FormRecord>,
    ) -> Option<KeptAnswer> {
        let replay = self.inner.replay.as_ref()?;
        let webhook_field = &self.inner.spec.webhook_field;
        let recorded = replay.answer(&key(method, path, query, form, webhook_field))?;
        tracing::info!(method, path, file = %recorded.file, "replayed");
        if let Some(task) = &recorded.task_id
            && let Some(done) = replay.final_of(task)
            && let Some(url) = form.and_then(|f| {
                f.fields
                    .iter()
                    .find(|x| &x.name == webhook_field && !x.value.is_empty())
            })
        {
            replay.wait(task, url.value.clone());
            let inner = Arc::downgrade(&self.inner);
            let task = task.clone();
            let after = done.after;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if let Some(inner) = inner.upgrade() {
                    inner.replayed_task_completed(&task);
                }
            });
        }
        if let Some(task) = &recorded.completes {
            self.inner.replayed_task_completed(task);
        }
        Some(recorded.answer)
    }

    /// For a request the recording has no answer for, the nearest recorded request, in words:
    /// its key and the file of its first answer (see `Replay::nearest`).
    pub(crate) fn replay_nearest(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        form: Option<&FormRecord>,
    ) -> Option<String> {
        let replay = self.inner.replay.as_ref()?;
        let webhook_field = &self.inner.spec.webhook_field;
        let (key, file) = replay.nearest(&key(method, path, query, form, webhook_field))?;
        Some(format!("{key} (answered in {file})"))
    }
}

/// Every status the mock shows must be one the spec tells clients to expect, and the statuses
/// a task ends in exactly the spec's final ones.
pub(super) fn check_statuses(spec: &'static Spec) -> Result<(), String> {
    let known: Vec<Status> = (spec.known_statuses.iter())
        .map(|k| Status::named(k))
        .collect();
    if let Some(status) =
        (Status::SHOWN.iter()).find(|status| !known.is_empty() && !known.contains(status))
    {
        return Err(format!(
            "ConversionStatus x-known-values lacks {}",
            status.as_str()
        ));
    }
    let ends: Vec<&str> = Outcome::ALL.iter().map(|o| o.status().as_str()).collect();
    let finals: Vec<&str> = spec.final_statuses.iter().map(String::as_str).collect();
    if !finals.is_empty()
        && (ends.iter().any(|e| !finals.contains(e)) || finals.len() != ends.len())
    {
        return Err(format!(
            "ConversionStatus x-final-values {finals:?} are not the statuses a task ends in {ends:?}"
        ));
    }
    Ok(())
}

impl Inner {
    /// Queues (or refuses) the webhook of a task that just completed. The task stays in the store
    /// until the webhook is final.
    fn dispatch(&self, task: &Task, url: &str) {
        let origin = read(&self.origin).clone();
        let fill = TaskFill {
            task,
            now: task.finished_at,
            clock: &self.clock,
            spec: self.spec,
            origin: &origin,
            webhook: true,
        };
        let payload = self.spec.webhook.render(&fill);
        self.dispatch_payload(task.task_id, task.conversion_id.to_string(), url, payload);
    }

    /// Sends the webhook of a replayed task, made from its recorded final conversion, if it is
    /// waiting for one (each is sent once).
    fn replayed_task_completed(&self, task_id: &str) {
        let Some(replay) = &self.replay else {
            return;
        };
        let (Some(url), Some(done)) = (replay.take_waiting(task_id), replay.final_of(task_id))
        else {
            return;
        };
        let Ok(id) = Uuid::try_parse(task_id) else {
            tracing::warn!(
                task_id,
                "a replayed task's id is not a UUID: no webhook sent"
            );
            return;
        };
        let conversion_id = done
            .conversion
            .get(Field::ConversionId.name())
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let payload = self.spec.webhook.render(&RecordedFill(&done.conversion));
        self.dispatch_payload(id, conversion_id, &url, payload);
        self.sender.changed.notify_waiters();
    }

    /// Queues (or refuses) a webhook.
    fn dispatch_payload(&self, task_id: Uuid, conversion_id: String, url: &str, payload: Vec<u8>) {
        let mut record = WebhookDelivery {
            task_id: task_id.to_string(),
            conversion_id,
            url: url.to_owned(),
            state: DeliveryState::Pending,
            reason: None,
            payload: serde_json::from_slice(&payload).unwrap_or_default(),
            attempts: Vec::new(),
        };
        let at = self.clock.now();
        if let Err(reason) = check_target(url, &self.config.mock.webhook_allow) {
            tracing::warn!(url, %reason, "webhook refused");
            record.state = DeliveryState::Refused;
            record.reason = Some(reason.clone());
            lock(&self.webhooks).insert(task_id, record);
            let event = WebhookEvent {
                task_id: task_id.to_string(),
                url: url.to_owned(),
                reason,
            };
            lock(&self.journal).push_webhook(at, JournalKind::WebhookRefused, &event);
            self.release(&task_id);
            return;
        }
        lock(&self.webhooks).insert(task_id, record);
        let delivery = Delivery {
            generation: self.sender.generation.load(Ordering::Acquire),
            task_id,
            url: url.to_owned(),
            payload: payload.into(),
        };
        if self.webhook_tx.send(delivery).is_err() {
            // The sender has stopped: the server is shutting down, and the delivery is reported
            // as pending.
            self.release(&task_id);
        }
    }
}

impl Release for Inner {
    fn release(&self, task_id: &Uuid) {
        lock(&self.tasks).release(task_id);
    }
}

impl Settle for Inner {
    fn settle(&self) -> Option<VTime> {
        let now = self.clock.now();
        let (due, next) = {
            let mut tasks = lock(&self.tasks);
            let due = tasks.settle_due(now);
            let next = tasks.next_due();
            self.scheduled
                .store(next.unwrap_or(u64::MAX), Ordering::Release);
            (due, next)
        };
        for task in &due {
            if task.request.outcome == Outcome::Completed
                && let Some(url) = &task.request.webhook_url
            {
                self.dispatch(task, url);
            }
        }
        if !due.is_empty() {
            self.sender.changed.notify_waiters();
        }
        next
    }
}
