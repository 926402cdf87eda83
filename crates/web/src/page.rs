//! Paginated lists: `?limit=&offset=` in, `{items, total, limit, offset}`
//! out.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub domain: Option<String>,
    /// Keeps items whose text contains this (case-insensitive).
    pub q: Option<String>,
    /// A field to sort by; `-field` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub fn page<T: Serialize>(items: Vec<T>, query: &ListQuery) -> Value {
    let mut items: Vec<Value> = items.iter().map(|i| json!(i)).collect();
    if let Some(q) = query
        .q
        .as_deref()
        .map(str::to_lowercase)
        .filter(|q| !q.is_empty())
    {
        items.retain(|item| item.to_string().to_lowercase().contains(&q));
    }
    if let Some(sort) = query.sort.as_deref() {
        let (field, descending) = match sort.strip_prefix('-') {
            Some(field) => (field, true),
            None => (sort, false),
        };
        items.sort_by(|a, b| {
            let order = compare(&a[field], &b[field]);
            if descending { order.reverse() } else { order }
        });
    }
    let total = items.len();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let items: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    json!({ "items": items, "total": total, "limit": limit, "offset": offset })
}

/// Numbers as numbers, everything else as text.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}
