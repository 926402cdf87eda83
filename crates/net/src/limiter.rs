//! Connection limits in total and per key (client IP, or account), so one
//! client (or a flood) cannot take every slot. A refused connection gets its
//! protocol's "busy" reply at once instead of waiting in a queue.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// The server as a whole is at its limit.
    Total,
    /// This client address (or account) already has its share.
    PerIp,
}

#[derive(Debug)]
struct Counts<K> {
    total: usize,
    per_ip: HashMap<K, usize>,
}

#[derive(Debug, Clone)]
pub struct Limiter<K = IpAddr> {
    max_total: usize,
    max_per_ip: usize,
    counts: Arc<Mutex<Counts<K>>>,
}

/// A connection slot; released when dropped.
#[derive(Debug)]
pub struct Permit<K: Hash + Eq = IpAddr> {
    ip: K,
    counts: Arc<Mutex<Counts<K>>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Self {
            max_total,
            max_per_ip,
            counts: Arc::new(Mutex::new(Counts {
                total: 0,
                per_ip: HashMap::new(),
            })),
        }
    }

    pub fn try_acquire(&self, ip: K) -> Result<Permit<K>, LimitHit> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= self.max_total {
            return Err(LimitHit::Total);
        }
        let mine = counts.per_ip.entry(ip.clone()).or_default();
        if *mine >= self.max_per_ip {
            return Err(LimitHit::PerIp);
        }
        *mine += 1;
        counts.total += 1;
        Ok(Permit {
            ip,
            counts: self.counts.clone(),
        })
    }
}

impl<K: Hash + Eq> Drop for Permit<K> {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_ip_and_in_total_and_are_released() {
        let limiter: Limiter = Limiter::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = limiter.try_acquire(a).unwrap();
        let _a2 = limiter.try_acquire(a).unwrap();
        assert_eq!(limiter.try_acquire(a).unwrap_err(), LimitHit::PerIp);
        let _b1 = limiter.try_acquire(b).unwrap();
        assert_eq!(limiter.try_acquire(b).unwrap_err(), LimitHit::Total);
        drop(a1);
        let _a3 = limiter.try_acquire(a).unwrap();
    }
}
