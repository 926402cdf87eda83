//! The API's rate limit per client address: a token bucket refilled at
//! `per_second` (default 20) holding one second's worth; a request that
//! finds it empty gets `429` with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::Peer;
use crate::error::ApiError;

pub struct RateLimit {
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `ip`; `Err(seconds)` until one is available.
    fn take(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget the idle ones rather than grow without bound.
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 10);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.per_second, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.per_second);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request.extensions().get::<Peer>().map(|p| p.0.ip());
    if let Some(ip) = ip
        && let Err(wait) = state.rate.take(ip)
    {
        return ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many requests from your address; wait {wait} s"),
            retry_after: Some(wait as i64),
        }
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_burst_past_the_rate_waits() {
        let limit = super::RateLimit::new(5);
        let ip = std::net::IpAddr::from([192, 0, 2, 1]);
        for _ in 0..5 {
            assert!(limit.take(ip).is_ok());
        }
        assert_eq!(limit.take(ip), Err(1));
        assert!(limit.take(std::net::IpAddr::from([192, 0, 2, 2])).is_ok());
    }
}
