//! The bounded task store: tasks by task id and conversion id, the order they are due in, and
//! which of them may be evicted.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use uuid::Uuid;

use super::clock::VTime;
use super::ids::IdMap;
use super::tasks::{AudioSource, FinishError, Outcome, Task};
use super::uploads::UploadStore;

/// Tasks by id, bounded: when full, the oldest evictable task goes. A task is evictable once it is
/// final and its webhook, if it has one, is delivered or given up on; a task still running, or
/// whose webhook is still pending, is never dropped, so a store full of them takes no new task
/// (and pending webhooks are bounded by the store, not by a queue that would have to drop them).
///
/// The orders are kept in queues and a heap with lazy deletion (an entry whose task is gone, or
/// changed, is skipped when reached) rather than in ordered maps: under load every Cover inserts
/// one task and evicts one, and those maps' rebalancing was the costliest part of a request.
/// Queues are compacted when stale entries pile up, so memory stays proportional to the capacity.
#[derive(Debug)]
pub(crate) struct TaskStore {
    tasks: IdMap<Task>,
    by_conversion: IdMap<Uuid>,
    /// (seq, task id) in insertion order.
    order: VecDeque<(u64, Uuid)>,
    /// (seq, task id) in the order tasks became evictable.
    evictable: VecDeque<(u64, Uuid)>,
    /// (finish time, seq, task id), soonest on top.
    due: BinaryHeap<Reverse<(VTime, u64, Uuid)>>,
    next_seq: u64,
    capacity: usize,
    /// What the kept tasks weigh ([`Task::weight`]), and the most they may.
    bytes: usize,
    max_bytes: usize,
    /// Where the tasks' uploads are kept: a task's goes when the task does.
    uploads: Option<Arc<UploadStore>>,
}

impl TaskStore {
    /// A store of at most `capacity` tasks weighing at most `max_bytes` in all.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> TaskStore {
        TaskStore {
            tasks: IdMap::default(),
            by_conversion: IdMap::default(),
            order: VecDeque::new(),
            evictable: VecDeque::new(),
            due: BinaryHeap::new(),
            next_seq: 0,
            capacity,
            bytes: 0,
            max_bytes,
            uploads: None,
        }
    }

    /// The store whose tasks' uploads are kept in `uploads`.
    pub(crate) fn with_uploads(mut self, uploads: Arc<UploadStore>) -> TaskStore {
        self.uploads = Some(uploads);
        self
    }

    /// Drops every task, and every upload kept for one.
    pub(crate) fn clear(&mut self) {
        let uploads = self.uploads.take();
        if let Some(u) = &uploads {
            u.clear();
        }
        *self = TaskStore::new(self.capacity, self.max_bytes);
        self.uploads = uploads;
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn live(&self, seq: u64, id: &Uuid) -> bool {
        self.tasks.get(id).is_some_and(|t| t.seq == seq)
    }

    /// Makes a place for one more task weighing `weight` by evicting evictable tasks, oldest
    /// first; false when no task kept is evictable.
    pub(crate) fn make_room(&mut self, weight: usize) -> bool {
        while self.tasks.len() >= self.capacity || self.bytes + weight > self.max_bytes {
            match self.pop_live_evictable() {
                Some(id) => self.remove(id),
                None => return false,
            }
        }
        true
    }

    /// Adds a task; `Err` gives it back when [`TaskStore::make_room`] finds no place.
    pub(crate) fn insert(&mut self, task: Task) -> Result<(), Box<Task>> {
        let weight = task.weight();
        if !self.make_room(weight) {
            return Err(Box::new(task));
        }
        self.bytes += weight;
        self.order.push_back((task.seq, task.task_id));
        self.by_conversion.insert(task.conversion_id, task.task_id);
        self.due
            .push(Reverse((task.finished_at, task.seq, task.task_id)));
        self.tasks.insert(task.task_id, task);
        self.compact();
        Ok(())
    }

    fn pop_live_evictable(&mut self) -> Option<Uuid> {
        while let Some((seq, id)) = self.evictable.pop_front() {
            if self.live(seq, &id) {
                return Some(id);
            }
        }
        None
    }

    /// Drops stale queue entries once they outnumber the tasks.
    fn compact(&mut self) {
        let limit = 2 * self.capacity + 64;
        while self
            .order
            .front()
            .is_some_and(|(seq, id)| !self.live(*seq, id))
        {
            self.order.pop_front();
        }
        if self.order.len() > limit {
            let tasks = &self.tasks;
            self.order
                .retain(|(seq, id)| tasks.get(id).is_some_and(|t| t.seq == *seq));
        }
        if self.evictable.len() > limit {
            let tasks = &self.tasks;
            self.evictable
                .retain(|(seq, id)| tasks.get(id).is_some_and(|t| t.seq == *seq));
        }
        if self.due.len() > limit {
            let tasks = &self.tasks;
            self.due.retain(|Reverse((at, seq, id))| {
                tasks
                    .get(id)
                    .is_some_and(|t| t.seq == *seq && t.finished_at == *at && !t.settled)
            });
        }
    }

    fn remove(&mut self, task_id: Uuid) {
        if let Some(task) = self.tasks.remove(&task_id) {
            self.by_conversion.remove(&task.conversion_id);
            self.bytes -= task.weight();
            if let Some(uploads) = &self.uploads
                && matches!(task.source, AudioSource::File { .. })
            {
                uploads.remove(&task_id);
            }
        }
    }

    pub(crate) fn get(&self, task_id: &Uuid) -> Option<&Task> {
        self.tasks.get(task_id)
    }

    pub(crate) fn by_conversion(&self, conversion_id: &Uuid) -> Option<&Task> {
        self.by_conversion
            .get(conversion_id)
            .and_then(|t| self.tasks.get(t))
    }

    /// By task id or conversion id.
    pub(crate) fn find(&self, id: &Uuid) -> Option<&Task> {
        self.get(id).or_else(|| self.by_conversion(id))
    }

    /// Oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Task> {
        let mut all: Vec<&Task> = self.tasks.values().collect();
        all.sort_unstable_by_key(|t| t.seq);
        all.into_iter()
    }

    /// Ends a task now with `outcome`.
    pub(crate) fn finish_now(
        &mut self,
        id: &Uuid,
        outcome: Outcome,
        now: VTime,
    ) -> Result<(), FinishError> {
        let task_id = self
            .find(id)
            .map(|t| t.task_id)
            .ok_or(FinishError::NotFound)?;
        let Some(task) = self.tasks.get_mut(&task_id) else {
            return Err(FinishError::NotFound);
        };
        if task.is_final(now) {
            return Err(FinishError::AlreadyFinal(task.status(now).to_owned()));
        }
        task.finished_at = now;
        task.processing_at = task.processing_at.min(now);
        task.outcome = outcome;
        // The old heap entry no longer matches `finished_at`: it is skipped when reached.
        self.due.push(Reverse((now, task.seq, task_id)));
        Ok(())
    }

    /// Marks every task final by `now` as settled; returns copies of those that completed with
    /// a webhook to send (only those: under load most tasks have none). Those stay unevictable
    /// until [`TaskStore::release`].
    pub(crate) fn settle_due(&mut self, now: VTime) -> Vec<Task> {
        let mut out = Vec::new();
        while let Some(&Reverse((at, seq, id))) = self.due.peek() {
            if at > now {
                break;
            }
            self.due.pop();
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            if task.seq != seq || task.finished_at != at || task.settled {
                continue;
            }
            task.settled = true;
            if task.outcome == Outcome::Completed && task.webhook_url.is_some() {
                // Kept until its webhook is final: see `release`.
                task.webhook_pending = true;
                out.push(task.clone());
            } else {
                self.evictable.push_back((seq, id));
            }
        }
        out
    }

    /// The webhook of a task is final (delivered, failed or refused): the task may be evicted.
    pub(crate) fn release(&mut self, task_id: &Uuid) {
        if let Some(task) = self.tasks.get_mut(task_id)
            && task.webhook_pending
        {
            task.webhook_pending = false;
            self.evictable.push_back((task.seq, *task_id));
        }
    }

    /// When the next unsettled task is due.
    pub(crate) fn next_due(&mut self) -> Option<VTime> {
        while let Some(&Reverse((at, seq, id))) = self.due.peek() {
            let current = self
                .tasks
                .get(&id)
                .is_some_and(|t| t.seq == seq && t.finished_at == at && !t.settled);
            if current {
                return Some(at);
            }
            self.due.pop();
        }
        None
    }

    /// Tasks not final yet that will send a webhook (for the shutdown report).
    pub(crate) fn unsettled_with_webhook(&self) -> impl Iterator<Item = &Task> {
        self.tasks
            .values()
            .filter(|t| !t.settled && t.webhook_url.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tasks::{FAILED, sample_task as task};

    #[test]
    fn store_evicts_settled_tasks_first() {
        let mut store = TaskStore::new(2, 1 << 20);
        assert!(store.insert(task(1, 5000)).is_ok());
        let mut with_webhook = task(2, 10);
        with_webhook.webhook_url = Some("http://127.0.0.1/x".into());
        assert!(store.insert(with_webhook).is_ok());
        assert_eq!(store.settle_due(100).len(), 1);
        // Final, but its webhook is pending: kept, and the new task is refused.
        assert!(store.insert(task(3, 5000)).is_err());
        store.release(&Uuid::from_u128(2));
        store.release(&Uuid::from_u128(2));
        assert!(store.insert(task(3, 5000)).is_ok());
        assert_eq!(store.len(), 2);
        assert!(store.get(&Uuid::from_u128(1)).is_some());
        assert!(store.get(&Uuid::from_u128(2)).is_none());
        // Nothing evictable: nothing is dropped, and the new task is refused.
        assert!(store.insert(task(4, 5000)).is_err());
        assert!(store.get(&Uuid::from_u128(1)).is_some());
        assert!(store.get(&Uuid::from_u128(4)).is_none());
        assert_eq!(store.next_due(), Some(5000));
    }

    #[test]
    fn finishing_now_moves_the_deadline() {
        let mut store = TaskStore::new(10, 1 << 20);
        assert!(store.insert(task(1, 5000)).is_ok());
        assert_eq!(
            store.finish_now(&Uuid::from_u128(1), Outcome::Failed, 42),
            Ok(())
        );
        assert_eq!(store.next_due(), Some(42));
        // Failed: settled, but nothing to send.
        assert!(store.settle_due(42).is_empty());
        assert!(
            store
                .get(&Uuid::from_u128(1))
                .is_some_and(|t| t.settled && t.status(42) == FAILED)
        );
        assert_eq!(
            store.finish_now(&Uuid::from_u128(1 << 64), Outcome::Completed, 50),
            Err(FinishError::AlreadyFinal(FAILED.to_owned()))
        );
    }

    #[test]
    fn the_store_is_bounded_in_bytes_too() {
        let one = task(1, 10).weight();
        let mut store = TaskStore::new(100, 2 * one + one / 2);
        assert!(store.insert(task(1, 10)).is_ok());
        assert!(store.insert(task(2, 10)).is_ok());
        // Two fit in the bytes, a third does not until one may go.
        assert!(store.insert(task(3, 10)).is_err());
        assert_eq!(store.settle_due(10).len(), 0);
        assert!(store.insert(task(3, 10)).is_ok());
        assert_eq!(store.len(), 2);
        assert!(store.get(&Uuid::from_u128(1)).is_none());
        let mut heavy = task(4, 10);
        heavy.voice_id = "x".repeat(10 * one);
        assert!(store.insert(heavy).is_err(), "heavier than the whole store");
    }
}
