//! Paginated lists: `?limit=&offset=` in, `{items, total, limit, offset}`
//! out.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub domain: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub fn page<T: Serialize>(items: Vec<T>, query: &ListQuery) -> Value {
    let total = items.len();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let items: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    json!({ "items": items, "total": total, "limit": limit, "offset": offset })
}
