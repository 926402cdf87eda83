//! Spam scoring without I/O: a message is parsed once into a [`View`],
//! rules emit named tags, a [`ScoreTable`] maps tags to scores, the
//! Bayesian classifier ([`bayes`]) adds one tag of its own, and the sum is
//! compared with the thresholds. The caller (mailroom-core) supplies what
//! needs the network or the store: authentication results, token counts.

pub mod bayes;
pub mod domain;
pub mod message;
mod mime_repair;
pub mod mime_tree;
pub mod received;
pub mod rules;
pub mod scores;
pub mod tokens;
pub mod verdict;

pub use message::View;
pub use rules::{Context, Direction, Hit};
pub use scores::ScoreTable;
pub use verdict::{Report, Verdict};
