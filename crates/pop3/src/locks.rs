//! One POP3 session per maildrop at a time (RFC 1939 8: exclusive access).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[derive(Default, Clone)]
pub struct MaildropLocks(Arc<Mutex<HashSet<i64>>>);

/// Held while a session owns a maildrop; released when dropped.
pub struct MaildropLock {
    account_id: i64,
    locks: MaildropLocks,
}

impl MaildropLocks {
    pub fn try_lock(&self, account_id: i64) -> Option<MaildropLock> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(account_id).then(|| MaildropLock {
            account_id,
            locks: self.clone(),
        })
    }
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        let mut held = self.locks.0.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(&self.account_id);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_maildrop_is_locked_once() {
        let locks = super::MaildropLocks::default();
        let first = locks.try_lock(7).unwrap();
        assert!(locks.try_lock(7).is_none());
        assert!(locks.try_lock(8).is_some());
        drop(first);
        assert!(locks.try_lock(7).is_some());
    }
}
