//! The bounded task store: tasks by task id and conversion id, the order they are due in, and
//! which of them may be evicted.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use uuid::Uuid;

use super::clock::VTime;
use super::ids::IdMap;
use super::tasks::{AudioSource, FinishError, Outcome, Task};
use super::uploads::UploadStore;

/// A task's place in the store's slab.
type Slot = u32;

/// Tasks by id, bounded: when full, the oldest evictable task goes. A task is evictable once it is
/// final and its webhook, if it has one, is delivered or given up on; a task still running, or
/// whose webhook is still pending, is never dropped, so a store full of them takes no new task
/// (and pending webhooks are bounded by the store, not by a queue that would have to drop them).
///
/// The tasks live in a slab (a `Vec` of places, freed places reused last-in first-out), and the
/// two id maps hold only a place number: under load every Cover evicts one task and inserts one,
/// and the new task takes the place the evicted one just left, so the insert writes memory the
/// eviction has just touched, while the maps stay small (20 bytes an entry rather than a whole
/// task) and are all that is looked up at random. The orders are kept in queues and a heap with
/// lazy deletion (an entry whose place is empty, or holds another task or a changed one, is
/// skipped when reached); checking an entry reads its place, without hashing. Queues are
/// compacted when stale entries pile up, so memory stays proportional to the capacity.
#[derive(Debug, Default)]
pub(crate) struct TaskStore {
    slots: Vec<Option<Task>>,
    /// Empty places, the last freed on top.
    free: Vec<Slot>,
    len: usize,
    ids: IdMap<Slot>,
    by_conversion: IdMap<Slot>,
    /// (seq, place) in insertion order.
    order: VecDeque<(u64, Slot)>,
    /// (seq, place) in the order tasks became evictable.
    evictable: VecDeque<(u64, Slot)>,
    /// (finish time, seq, place), soonest on top.
    due: BinaryHeap<Reverse<(VTime, u64, Slot)>>,
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
            capacity,
            max_bytes,
            ..TaskStore::default()
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
        self.len
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn slot(&self, slot: Slot) -> Option<&Task> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn slot_mut(&mut self, slot: Slot) -> Option<&mut Task> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Whether `slot` still holds the task numbered `seq`.
    fn live(&self, seq: u64, slot: Slot) -> bool {
        self.slot(slot).is_some_and(|t| t.seq == seq)
    }

    /// Makes a place for one more task weighing `weight` by evicting evictable tasks, oldest
    /// first; false when no task kept is evictable.
    pub(crate) fn make_room(&mut self, weight: usize) -> bool {
        while self.len >= self.capacity || self.bytes + weight > self.max_bytes {
            match self.pop_live_evictable() {
                Some(slot) => self.remove(slot),
                None => return false,
            }
        }
        true
    }

    /// Adds a task; `Err` gives it back when [`TaskStore::make_room`] finds no place. A task
    /// stored settled (final at once, nothing to send) is evictable at once and never due.
    pub(crate) fn insert(&mut self, task: Task) -> Result<(), Box<Task>> {
        let weight = task.weight();
        if !self.make_room(weight) {
            return Err(Box::new(task));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let Ok(slot) = Slot::try_from(self.slots.len()) else {
                    return Err(Box::new(task));
                };
                self.slots.push(None);
                slot
            }
        };
        self.bytes += weight;
        self.len += 1;
        self.order.push_back((task.seq, slot));
        if task.settled {
            // Final already, with nothing to send: the scheduler has nothing to do for it.
            self.evictable.push_back((task.seq, slot));
        } else {
            self.due.push(Reverse((task.finished_at, task.seq, slot)));
        }
        self.ids.insert(task.task_id, slot);
        self.by_conversion.insert(task.conversion_id, slot);
        self.slots[slot as usize] = Some(task);
        self.compact();
        Ok(())
    }

    fn pop_live_evictable(&mut self) -> Option<Slot> {
        while let Some((seq, slot)) = self.evictable.pop_front() {
            if self.live(seq, slot) {
                return Some(slot);
            }
        }
        None
    }

    /// Drops stale queue entries once they outnumber the tasks.
    fn compact(&mut self) {
        let limit = 2 * self.capacity + 64;
        while let Some(&(seq, slot)) = self.order.front() {
            if self.live(seq, slot) {
                break;
            }
            self.order.pop_front();
        }
        let slots = &self.slots;
        let live = |seq: u64, slot: Slot| {
            slots
                .get(slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|t| t.seq == seq)
        };
        if self.order.len() > limit {
            self.order.retain(|&(seq, slot)| live(seq, slot));
        }
        if self.evictable.len() > limit {
            self.evictable.retain(|&(seq, slot)| live(seq, slot));
        }
        if self.due.len() > limit {
            self.due.retain(|&Reverse((at, seq, slot))| {
                slots
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|t| t.seq == seq && t.finished_at == at && !t.settled)
            });
        }
    }

    fn remove(&mut self, slot: Slot) {
        let Some(task) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        self.len -= 1;
        // Only the maps' entries that lead here: a later task given the same id has its own.
        if let Entry::Occupied(e) = self.ids.entry(task.task_id)
            && *e.get() == slot
        {
            e.remove();
        }
        if let Entry::Occupied(e) = self.by_conversion.entry(task.conversion_id)
            && *e.get() == slot
        {
            e.remove();
        }
        self.bytes -= task.weight();
        if let Some(uploads) = &self.uploads
            && matches!(task.request.source, AudioSource::File { .. })
        {
            uploads.remove(&task.task_id);
        }
    }

    pub(crate) fn get(&self, task_id: &Uuid) -> Option<&Task> {
        self.ids.get(task_id).and_then(|&slot| self.slot(slot))
    }

    pub(crate) fn by_conversion(&self, conversion_id: &Uuid) -> Option<&Task> {
        self.by_conversion
            .get(conversion_id)
            .and_then(|&slot| self.slot(slot))
    }

    /// By task id or conversion id.
    pub(crate) fn find(&self, id: &Uuid) -> Option<&Task> {
        self.get(id).or_else(|| self.by_conversion(id))
    }

    /// Oldest first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Task> {
        let mut all: Vec<&Task> = self.slots.iter().flatten().collect();
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
        let slot = self
            .ids
            .get(id)
            .or_else(|| self.by_conversion.get(id))
            .copied()
            .ok_or(FinishError::NotFound)?;
        let Some(task) = self.slot_mut(slot) else {
            return Err(FinishError::NotFound);
        };
        if task.is_final(now) {
            return Err(FinishError::AlreadyFinal(
                task.status(now).as_str().to_owned(),
            ));
        }
        task.finished_at = now;
        task.processing_at = task.processing_at.min(now);
        task.request.outcome = outcome;
        let seq = task.seq;
        // The old heap entry no longer matches `finished_at`: it is skipped when reached.
        self.due.push(Reverse((now, seq, slot)));
        Ok(())
    }

    /// Marks every task final by `now` as settled; returns copies of those that completed with
    /// a webhook to send (only those: under load most tasks have none). Those stay unevictable
    /// until [`TaskStore::release`].
    pub(crate) fn settle_due(&mut self, now: VTime) -> Vec<Task> {
        let mut out = Vec::new();
        while let Some(&Reverse((at, seq, slot))) = self.due.peek() {
            if at > now {
                break;
            }
            self.due.pop();
            let Some(task) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
                continue;
            };
            if task.seq != seq || task.finished_at != at || task.settled {
                continue;
            }
            task.settled = true;
            if task.request.outcome == Outcome::Completed && task.request.webhook_url.is_some() {
                // Kept until its webhook is final: see `release`.
                task.webhook_pending = true;
                out.push(task.clone());
            } else {
                self.evictable.push_back((seq, slot));
            }
        }
        out
    }

    /// The webhook of a task is final (delivered, failed or refused): the task may be evicted.
    pub(crate) fn release(&mut self, task_id: &Uuid) {
        let Some(&slot) = self.ids.get(task_id) else {
            return;
        };
        if let Some(task) = self.slot_mut(slot)
            && task.webhook_pending
        {
            task.webhook_pending = false;
            let seq = task.seq;
            self.evictable.push_back((seq, slot));
        }
    }

    /// When the next unsettled task is due.
    pub(crate) fn next_due(&mut self) -> Option<VTime> {
        while let Some(&Reverse((at, seq, slot))) = self.due.peek() {
            let current = self
                .slot(slot)
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
        self.slots
            .iter()
            .flatten()
            .filter(|t| !t.settled && t.request.webhook_url.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tasks::{Status, sample_task as task};

    #[test]
    fn store_evicts_settled_tasks_first() {
        let mut store = TaskStore::new(2, 1 << 20);
        assert!(store.insert(task(1, 5000)).is_ok());
        let mut with_webhook = task(2, 10);
        with_webhook.request.webhook_url = Some("http://127.0.0.1/x".into());
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
                .is_some_and(|t| t.settled && t.status(42) == Status::Failed)
        );
        assert_eq!(
            store.finish_now(&Uuid::from_u128(1 << 64), Outcome::Completed, 50),
            Err(FinishError::AlreadyFinal("FAILED".to_owned()))
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
        heavy.request.voice_id = "x".repeat(10 * one);
        assert!(store.insert(heavy).is_err(), "heavier than the whole store");
    }

    #[test]
    fn places_are_reused_and_both_ids_find_the_task() {
        let mut store = TaskStore::new(3, 1 << 20);
        for seq in 1..=50u64 {
            assert!(store.insert(task(seq, seq)).is_ok(), "task {seq}");
            assert_eq!(store.settle_due(seq).len(), 0);
        }
        // Each new task took the place the evicted one left: the slab never grew past capacity.
        assert_eq!(store.len(), 3);
        assert_eq!(store.slots.len(), 3);
        for seq in 48..=50u64 {
            let by_task = store.get(&Uuid::from_u128(u128::from(seq))).map(|t| t.seq);
            let by_conversion = store
                .by_conversion(&Uuid::from_u128(u128::from(seq) << 64))
                .map(|t| t.seq);
            assert_eq!((by_task, by_conversion), (Some(seq), Some(seq)));
        }
        assert!(store.find(&Uuid::from_u128(47)).is_none());
        let seqs: Vec<u64> = store.all().map(|t| t.seq).collect();
        assert_eq!(seqs, [48, 49, 50]);
        // A later task with the same id as a kept one: evicting the older keeps the newer's entry.
        let mut twin = task(51, 51);
        twin.task_id = Uuid::from_u128(49);
        assert!(store.insert(twin).is_ok());
        assert_eq!(store.settle_due(51).len(), 0);
        for seq in 52..=53u64 {
            assert!(store.insert(task(seq, seq)).is_ok());
        }
        assert_eq!(store.get(&Uuid::from_u128(49)).map(|t| t.seq), Some(51));
    }

    #[test]
    fn a_task_stored_settled_is_evictable_at_once() {
        let mut store = TaskStore::new(1, 1 << 20);
        let mut done = task(1, 0);
        done.settled = true;
        assert!(store.insert(done).is_ok());
        assert_eq!(store.next_due(), None);
        // No scheduler ran, yet its place may be taken.
        assert!(store.insert(task(2, 5000)).is_ok());
        assert!(store.get(&Uuid::from_u128(1)).is_none());
        assert_eq!(store.next_due(), Some(5000));
    }
}
