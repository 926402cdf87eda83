//! Mailbox state held in memory and shared by every session that has the
//! mailbox open: UIDs, flags, MODSEQs and sizes, loaded once from the store
//! and then kept current by the change bus. Opening a mailbox copies a
//! persistent vector (constant time, structure shared), so SELECT of a
//! large mailbox reads nothing, and an idle session costs a pointer.
//!
//! Each mailbox also keeps a short log of its recent changes, numbered by
//! version, so a session catches up with exactly what it has not seen, and
//! a watch channel wakes only the sessions of that mailbox.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use imbl::Vector;
use mailroom_store::{BlobId, Delivered, Flags, Mailbox, MessageMeta};
use tokio::sync::watch;

use super::MailboxEvent;

/// What a session needs to know of one message without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    pub keywords: Vec<String>,
    pub size: u64,
    pub internal_date: i64,
    pub blob: BlobId,
}

impl From<MessageMeta> for MessageState {
    fn from(m: MessageMeta) -> Self {
        Self {
            uid: m.uid,
            modseq: m.modseq,
            flags: m.flags,
            keywords: m.keywords,
            size: m.size,
            internal_date: m.internal_date,
            blob: m.blob,
        }
    }
}

impl From<&Delivered> for MessageState {
    fn from(d: &Delivered) -> Self {
        Self {
            uid: d.uid,
            modseq: d.modseq,
            flags: d.flags,
            keywords: d.keywords.clone(),
            size: d.size,
            internal_date: d.internal_date,
            blob: d.blob,
        }
    }
}

/// A consistent copy of a mailbox's state at one version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Live messages in UID order.
    pub messages: Vector<MessageState>,
    pub uidnext: u32,
    pub highestmodseq: u64,
    pub version: u64,
}

/// Changes kept per mailbox for sessions catching up; one that fell
/// further behind compares its whole view instead.
const LOG_CAPACITY: usize = 8192;

/// Mailboxes kept in memory with no session using them before the least
/// useful are dropped.
const IDLE_ENTRIES: usize = 256;

struct Inner {
    state: Snapshot,
    /// Every keyword used in the mailbox (for SELECT's FLAGS); it only
    /// grows, which RFC 3501 7.2.6 allows.
    keywords: BTreeSet<String>,
    /// The changes that produced the last `log.len()` versions.
    log: VecDeque<MailboxEvent>,
    /// Messages committed after one whose news has not arrived yet, by
    /// UID: deliveries commit in UID order but are announced by separate
    /// tasks, and a session must never see UID 33 before UID 32 (RFC 3501
    /// 2.3.1.1: new messages have higher UIDs than those it has seen).
    held: BTreeMap<u32, Held>,
}

enum Held {
    /// The message's `Appended`, with any flag changes since applied.
    Message(MailboxEvent),
    /// Expunged before it was shown: only its UID is used up.
    Gone,
}

/// How long a message waits for an earlier one's news before it is shown
/// anyway (a delivery whose task ended between commit and announcement).
const HOLD_AT_MOST: std::time::Duration = std::time::Duration::from_secs(1);

pub struct SharedMailbox {
    pub mailbox_id: i64,
    inner: RwLock<Inner>,
    version: watch::Sender<u64>,
    /// The mailbox was deleted; sessions that have it open must let go.
    deleted: std::sync::atomic::AtomicBool,
    /// The highest \\Recent claim made through this process: what the
    /// store holds, without asking it on every SELECT.
    recent_claimed: std::sync::atomic::AtomicU32,
}

impl SharedMailbox {
    fn new(mailbox_id: i64, state: Snapshot) -> Self {
        Self {
            mailbox_id,
            deleted: std::sync::atomic::AtomicBool::new(false),
            recent_claimed: std::sync::atomic::AtomicU32::new(0),
            version: watch::Sender::new(state.version),
            inner: RwLock::new(Inner {
                keywords: state
                    .messages
                    .iter()
                    .flat_map(|m| m.keywords.iter().cloned())
                    .collect(),
                state,
                log: VecDeque::new(),
                held: BTreeMap::new(),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn snapshot(&self) -> Snapshot {
        self.read().state.clone()
    }

    /// The changes after `version`, oldest first, with the version they
    /// lead to; `None` when some of them are no longer kept.
    pub fn changes_since(&self, version: u64) -> Option<(Vec<MailboxEvent>, u64)> {
        let inner = self.read();
        let current = inner.state.version;
        let missing = current.checked_sub(version)? as usize;
        if missing > inner.log.len() {
            return None;
        }
        let start = inner.log.len() - missing;
        Some((inner.log.range(start..).cloned().collect(), current))
    }

    /// Where \\Recent messages start as far as this process knows (the
    /// stored row may say more; it never says less).
    pub fn recent_claimed(&self) -> u32 {
        self.recent_claimed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn note_recent_claimed(&self, up_to: u32) {
        self.recent_claimed
            .fetch_max(up_to, std::sync::atomic::Ordering::AcqRel);
    }

    /// Whether the mailbox was deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Every keyword the mailbox's messages have had, sorted.
    pub fn keywords(&self) -> Vec<String> {
        self.read().keywords.iter().cloned().collect()
    }

    /// Messages with a UID of at least `uid`, in UID order.
    pub fn messages_from(&self, uid: u32) -> Vec<MessageState> {
        let inner = self.read();
        let messages = &inner.state.messages;
        let start = partition_point(messages, |m| m.uid < uid);
        messages.skip(start).into_iter().collect()
    }

    /// Resolves when the mailbox changes after the version last seen by
    /// the receiver.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Applies a change; true when messages wait for an earlier one (the
    /// caller then calls [`SharedMailbox::release_held`] a little later).
    fn apply(&self, event: &MailboxEvent) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut changed = None;
        match event {
            MailboxEvent::Appended { message, .. } if message.uid > inner.state.uidnext => {
                inner.held.insert(message.uid, Held::Message(event.clone()));
                return true;
            }
            MailboxEvent::FlagsChanged { update, .. } => {
                if let Some(Held::Message(MailboxEvent::Appended { message, .. })) =
                    inner.held.get_mut(&update.uid)
                    && update.modseq > message.modseq
                {
                    message.modseq = update.modseq;
                    message.flags = update.flags;
                    message.keywords = update.keywords.clone();
                }
            }
            MailboxEvent::Expunged { uids, .. } => {
                for uid in uids {
                    if let Some(held) = inner.held.get_mut(uid) {
                        *held = Held::Gone;
                    }
                }
            }
            _ => {}
        }
        if let Some(version) = Self::apply_locked(&mut inner, event) {
            changed = Some(version);
        }
        // What waited for this one follows, in UID order.
        while let Some(&uid) = inner.held.keys().next() {
            if uid > inner.state.uidnext {
                break;
            }
            let Some(held) = inner.held.remove(&uid) else {
                break;
            };
            if let Some(version) = Self::release(&mut inner, uid, held) {
                changed = Some(version);
            }
        }
        let waiting = !inner.held.is_empty();
        drop(inner);
        if let Some(version) = changed {
            self.version.send_replace(version);
        }
        waiting
    }

    /// Shows every held message, gaps or not: the news of an earlier
    /// message did not come in time.
    pub(crate) fn release_held(&self) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut changed = None;
        while let Some((uid, held)) = inner.held.pop_first() {
            if let Some(version) = Self::release(&mut inner, uid, held) {
                changed = Some(version);
            }
        }
        drop(inner);
        if let Some(version) = changed {
            self.version.send_replace(version);
        }
    }

    fn release(inner: &mut Inner, uid: u32, held: Held) -> Option<u64> {
        match held {
            Held::Message(event) => Self::apply_locked(inner, &event),
            Held::Gone => {
                inner.state.uidnext = inner.state.uidnext.max(uid + 1);
                None
            }
        }
    }

    /// Applies one change to the state; the new version if it changed.
    fn apply_locked(inner: &mut Inner, event: &MailboxEvent) -> Option<u64> {
        let new_keywords = match event {
            MailboxEvent::Appended { message, .. } => message.keywords.as_slice(),
            MailboxEvent::FlagsChanged { update, .. } => update.keywords.as_slice(),
            _ => &[],
        };
        for keyword in new_keywords {
            if !inner.keywords.contains(keyword) {
                inner.keywords.insert(keyword.clone());
            }
        }
        let state = &mut inner.state;
        match event {
            MailboxEvent::Appended { message, .. } => {
                let at = partition_point(&state.messages, |m| m.uid < message.uid);
                if state.messages.get(at).map(|m| m.uid) != Some(message.uid) {
                    state.messages.insert(at, message.clone());
                }
                state.uidnext = state.uidnext.max(message.uid + 1);
                state.highestmodseq = state.highestmodseq.max(message.modseq);
            }
            MailboxEvent::FlagsChanged { update, .. } => {
                let at = partition_point(&state.messages, |m| m.uid < update.uid);
                if let Some(m) = state.messages.get_mut(at)
                    && m.uid == update.uid
                    && update.modseq > m.modseq
                {
                    m.modseq = update.modseq;
                    m.flags = update.flags;
                    m.keywords = update.keywords.clone();
                }
                state.highestmodseq = state.highestmodseq.max(update.modseq);
            }
            MailboxEvent::Expunged { uids, modseq, .. } => {
                for uid in uids {
                    let at = partition_point(&state.messages, |m| m.uid < *uid);
                    if state.messages.get(at).map(|m| m.uid) == Some(*uid) {
                        state.messages.remove(at);
                    }
                }
                state.highestmodseq = state.highestmodseq.max(*modseq);
            }
            MailboxEvent::MailboxesChanged { .. } | MailboxEvent::JunkFeedback { .. } => {
                return None;
            }
        }
        state.version += 1;
        let version = state.version;
        inner.log.push_back(event.clone());
        if inner.log.len() > LOG_CAPACITY {
            inner.log.pop_front();
        }
        Some(version)
    }
}

/// Applies a change to a mailbox's state; held messages are shown after
/// [`HOLD_AT_MOST`] if the news they wait for has not come by then.
fn apply_to(shared: Arc<SharedMailbox>, event: &MailboxEvent) {
    if shared.apply(event)
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        runtime.spawn(async move {
            tokio::time::sleep(HOLD_AT_MOST).await;
            shared.release_held();
        });
    }
}

/// The first index whose element does not satisfy `before` (elements
/// satisfying it come first, as with a sorted slice).
pub fn partition_point<T: Clone>(v: &Vector<T>, before: impl Fn(&T) -> bool) -> usize {
    let (mut low, mut high) = (0, v.len());
    while low < high {
        let mid = low + (high - low) / 2;
        if before(&v[mid]) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

enum Entry {
    Ready(Arc<SharedMailbox>),
    /// Being read from the store; changes meanwhile wait here.
    Loading(Vec<MailboxEvent>),
}

/// Mailbox rows by account and name, so opening a mailbox reads nothing.
/// Names change only through [`super::Mail`], which announces it
/// (`MailboxesChanged`); each announcement drops the account's rows and
/// moves the generation on, so a read that raced with it is not kept.
#[derive(Default)]
struct Rows {
    generation: u64,
    by_account: HashMap<i64, HashMap<String, Mailbox>>,
}

/// Every mailbox currently held in memory.
#[derive(Default)]
pub struct MailboxStates {
    entries: Mutex<HashMap<i64, Entry>>,
    rows: Mutex<Rows>,
    /// One load at a time, so two sessions opening the same cold mailbox
    /// read it once.
    loading: tokio::sync::Mutex<()>,
}

impl MailboxStates {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, mailbox_id: i64) -> Option<Arc<SharedMailbox>> {
        match self.entries().get(&mailbox_id) {
            Some(Entry::Ready(shared)) => Some(shared.clone()),
            _ => None,
        }
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A remembered mailbox row, or the generation to remember one under.
    pub(crate) fn row(&self, account_id: i64, name: &str) -> Result<Mailbox, u64> {
        let rows = self.rows();
        rows.by_account
            .get(&account_id)
            .and_then(|names| names.get(name))
            .cloned()
            .ok_or(rows.generation)
    }

    /// Remembers a row read from the store, unless names changed since
    /// `generation` was handed out.
    pub(crate) fn remember_row(&self, generation: u64, name: &str, mailbox: Mailbox) {
        let mut rows = self.rows();
        if rows.generation == generation {
            rows.by_account
                .entry(mailbox.account_id)
                .or_default()
                .insert(name.to_string(), mailbox);
        }
    }

    /// Keeps the state of every held mailbox current.
    pub(crate) fn apply(&self, event: &MailboxEvent) {
        if let MailboxEvent::MailboxesChanged { account_id } = event {
            let mut rows = self.rows();
            rows.generation += 1;
            rows.by_account.remove(account_id);
            return;
        }
        let Some(mailbox_id) = event.mailbox_id() else {
            return;
        };
        let mut entries = self.entries();
        let deleted =
            matches!(event, MailboxEvent::Expunged { uids, modseq: 0, .. } if uids.is_empty());
        match entries.get_mut(&mailbox_id) {
            Some(Entry::Ready(shared)) => {
                let shared = shared.clone();
                if deleted {
                    entries.remove(&mailbox_id);
                    shared
                        .deleted
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                drop(entries);
                apply_to(shared, event);
            }
            Some(Entry::Loading(pending)) => pending.push(event.clone()),
            None => {}
        }
    }

    /// The shared state of a mailbox, loaded by `load` when not held yet.
    pub(crate) async fn open<F, Fut, E>(
        &self,
        mailbox_id: i64,
        load: F,
    ) -> Result<Arc<SharedMailbox>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Snapshot, E>>,
    {
        if let Some(shared) = self.get(mailbox_id) {
            return Ok(shared);
        }
        let _one_load = self.loading.lock().await;
        if let Some(shared) = self.get(mailbox_id) {
            return Ok(shared);
        }
        self.entries()
            .insert(mailbox_id, Entry::Loading(Vec::new()));
        let loaded = load().await;
        let mut entries = self.entries();
        let pending = match entries.remove(&mailbox_id) {
            Some(Entry::Loading(pending)) => pending,
            _ => Vec::new(),
        };
        let state = loaded?;
        let shared = Arc::new(SharedMailbox::new(mailbox_id, state));
        // Changes that raced with the load; applying one twice is harmless.
        for event in &pending {
            apply_to(shared.clone(), event);
        }
        if entries.len() >= IDLE_ENTRIES {
            // Drop mailboxes no session holds any more.
            entries.retain(|_, e| matches!(e, Entry::Ready(s) if Arc::strong_count(s) > 1));
        }
        entries.insert(mailbox_id, Entry::Ready(shared.clone()));
        Ok(shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::FlagUpdate;

    fn message(uid: u32) -> MessageState {
        MessageState {
            uid,
            modseq: u64::from(uid),
            flags: Flags::default(),
            keywords: Vec::new(),
            size: 10,
            internal_date: 0,
            blob: BlobId::of(&uid.to_be_bytes()),
        }
    }

    fn appended(uid: u32) -> MailboxEvent {
        MailboxEvent::Appended {
            account_id: 1,
            mailbox_id: 7,
            message: message(uid),
        }
    }

    #[tokio::test]
    async fn changes_are_applied_logged_and_replayable() {
        let states = MailboxStates::default();
        let shared = states
            .open(7, || async {
                Ok::<_, ()>(Snapshot {
                    messages: [message(1), message(2)].into_iter().collect(),
                    uidnext: 3,
                    highestmodseq: 2,
                    version: 0,
                })
            })
            .await
            .unwrap();
        let mut watcher = shared.watch();
        states.apply(&appended(3));
        // Out-of-order and repeated changes settle on the same state.
        states.apply(&appended(3));
        states.apply(&MailboxEvent::FlagsChanged {
            account_id: 1,
            mailbox_id: 7,
            update: FlagUpdate {
                uid: 2,
                modseq: 9,
                flags: Flags::SEEN,
                keywords: vec!["$Work".into()],
            },
        });
        states.apply(&MailboxEvent::Expunged {
            account_id: 1,
            mailbox_id: 7,
            uids: vec![1],
            modseq: 10,
        });
        assert!(watcher.has_changed().unwrap());
        watcher.mark_unchanged();
        let snap = shared.snapshot();
        let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [2, 3]);
        assert_eq!(snap.messages[0].flags, Flags::SEEN);
        assert_eq!((snap.uidnext, snap.highestmodseq, snap.version), (4, 10, 4));
        let (changes, version) = shared.changes_since(2).unwrap();
        assert_eq!((changes.len(), version), (2, 4));
        assert_eq!(shared.messages_from(3).len(), 1);
        assert_eq!(shared.keywords(), ["$Work"]);
        // Another mailbox's change does not reach this one.
        states.apply(&MailboxEvent::Expunged {
            account_id: 1,
            mailbox_id: 8,
            uids: vec![2],
            modseq: 11,
        });
        assert!(!watcher.has_changed().unwrap());
    }

    #[test]
    fn mailbox_rows_are_forgotten_when_names_change() {
        let states = MailboxStates::default();
        let row = Mailbox {
            id: 7,
            account_id: 1,
            name: "Work".into(),
            special_use: None,
            uidvalidity: 1,
            uidnext: 1,
            highestmodseq: 1,
            subscribed: true,
            recent_uid: 1,
        };
        let generation = states.row(1, "Work").unwrap_err();
        states.remember_row(generation, "Work", row.clone());
        assert_eq!(states.row(1, "Work"), Ok(row.clone()));
        states.apply(&MailboxEvent::MailboxesChanged { account_id: 1 });
        assert!(states.row(1, "Work").is_err());
        // A read that started before the change is not remembered.
        states.remember_row(generation, "Work", row);
        assert!(states.row(1, "Work").is_err());
    }

    #[tokio::test]
    async fn messages_are_shown_in_uid_order_whatever_order_their_news_comes_in() {
        let states = MailboxStates::default();
        let shared = states
            .open(7, || async {
                Ok::<_, ()>(Snapshot {
                    messages: [message(1)].into_iter().collect(),
                    uidnext: 2,
                    highestmodseq: 1,
                    version: 0,
                })
            })
            .await
            .unwrap();
        let uids = || -> Vec<u32> { shared.snapshot().messages.iter().map(|m| m.uid).collect() };
        // 3 and 4 were committed after 2, but their news came first.
        states.apply(&appended(4));
        states.apply(&appended(3));
        assert_eq!(uids(), [1], "nothing past the missing UID 2 is shown");
        // 3 is expunged before it was ever shown; 4 gets a flag.
        states.apply(&MailboxEvent::Expunged {
            account_id: 1,
            mailbox_id: 7,
            uids: vec![3],
            modseq: 20,
        });
        states.apply(&MailboxEvent::FlagsChanged {
            account_id: 1,
            mailbox_id: 7,
            update: FlagUpdate {
                uid: 4,
                modseq: 21,
                flags: Flags::SEEN,
                keywords: Vec::new(),
            },
        });
        states.apply(&appended(2));
        assert_eq!(uids(), [1, 2, 4]);
        assert_eq!(shared.snapshot().messages[2].flags, Flags::SEEN);
        assert_eq!(shared.snapshot().uidnext, 5);
        // News that never comes (its task ended) holds nothing for long.
        states.apply(&appended(7));
        assert_eq!(uids(), [1, 2, 4]);
        shared.release_held();
        assert_eq!(uids(), [1, 2, 4, 7]);
    }

    #[tokio::test]
    async fn a_change_during_the_load_is_not_lost() {
        let states = Arc::new(MailboxStates::default());
        let during = states.clone();
        let shared = states
            .open(7, || async move {
                during.apply(&appended(5));
                Ok::<_, ()>(Snapshot {
                    messages: [message(1)].into_iter().collect(),
                    uidnext: 5,
                    highestmodseq: 1,
                    version: 0,
                })
            })
            .await
            .unwrap();
        let uids: Vec<u32> = shared.snapshot().messages.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [1, 5]);
    }
}
