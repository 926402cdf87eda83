//! THREAD ORDEREDSUBJECT and REFERENCES (RFC 5256 4).

use std::collections::HashMap;

use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;

use super::summary::Summary;
use crate::session::{Done, Session};

/// A node of the thread tree: a message, or a dummy standing for a
/// referenced message we do not have.
#[derive(Default)]
struct Node {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Forest<'a> {
    nodes: Vec<Node>,
    messages: &'a [Summary],
}

impl Forest<'_> {
    fn is_ancestor(&self, candidate: usize, of: usize) -> bool {
        let mut cur = Some(of);
        while let Some(c) = cur {
            if c == candidate {
                return true;
            }
            cur = self.nodes[c].parent;
        }
        false
    }

    fn link(&mut self, parent: usize, child: usize) {
        if parent == child || self.is_ancestor(child, parent) {
            return; // would make a loop
        }
        if let Some(old) = self.nodes[child].parent.take() {
            self.nodes[old].children.retain(|&c| c != child);
        }
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The date a node sorts by: its message's, else its first child's.
    fn date(&self, node: usize) -> (i64, usize) {
        match self.nodes[node].message {
            Some(m) => (self.messages[m].date, self.messages[m].seq),
            None => self.nodes[node]
                .children
                .iter()
                .map(|&c| self.date(c))
                .min()
                .unwrap_or((i64::MAX, usize::MAX)),
        }
    }

    fn sort_children(&mut self, node: usize) {
        let mut children = std::mem::take(&mut self.nodes[node].children);
        children.sort_by_key(|&c| self.date(c));
        for &c in &children {
            self.sort_children(c);
        }
        self.nodes[node].children = children;
    }

    fn chain(&self, node: usize, numbers: &dyn Fn(usize) -> String) -> String {
        let mut items = Vec::new();
        let mut cur = node;
        loop {
            if let Some(m) = self.nodes[cur].message {
                items.push(numbers(m));
            }
            match self.nodes[cur].children.as_slice() {
                [only] => cur = *only,
                [] => return items.join(" "),
                many => {
                    let subs: String = many
                        .iter()
                        .map(|&c| format!("({})", self.chain(c, numbers)))
                        .collect();
                    items.push(subs);
                    return items.join(" ");
                }
            }
        }
    }
}

fn ordered_subject(messages: &[Summary]) -> Forest<'_> {
    let mut forest = Forest {
        nodes: Vec::new(),
        messages,
    };
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&messages[a], &messages[b]);
        (&x.subject, x.date, x.seq).cmp(&(&y.subject, y.date, y.seq))
    });
    let mut roots: HashMap<&str, usize> = HashMap::new();
    for m in order {
        let node = forest.nodes.len();
        forest.nodes.push(Node {
            message: Some(m),
            ..Node::default()
        });
        match roots.get(messages[m].subject.as_str()) {
            // Later messages of the subject are children of the first.
            Some(&root) => {
                forest.nodes[node].parent = Some(root);
                forest.nodes[root].children.push(node);
            }
            None => {
                roots.insert(&messages[m].subject, node);
            }
        }
    }
    forest
}

fn references(messages: &[Summary]) -> Forest<'_> {
    let mut forest = Forest {
        nodes: Vec::new(),
        messages,
    };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut node_for = |forest: &mut Forest<'_>, id: &str| -> usize {
        *by_id.entry(id.to_string()).or_insert_with(|| {
            forest.nodes.push(Node::default());
            forest.nodes.len() - 1
        })
    };
    for (m, summary) in messages.iter().enumerate() {
        // Step 1A: the message's own container (a duplicate id gets a new one).
        let own = match &summary.message_id {
            Some(id) => {
                let n = node_for(&mut forest, id);
                if forest.nodes[n].message.is_some() {
                    forest.nodes.push(Node::default());
                    forest.nodes.len() - 1
                } else {
                    n
                }
            }
            None => {
                forest.nodes.push(Node::default());
                forest.nodes.len() - 1
            }
        };
        forest.nodes[own].message = Some(m);
        // Step 1B: link the references in order, without breaking links.
        // The closest ancestors only: a hostile References field of
        // thousands of ids would cost their square in links.
        let from = summary.references.len().saturating_sub(MAX_REFERENCES);
        let refs: Vec<usize> = summary.references[from..]
            .iter()
            .map(|r| node_for(&mut forest, r))
            .collect();
        for pair in refs.windows(2) {
            if forest.nodes[pair[1]].parent.is_none() {
                forest.link(pair[0], pair[1]);
            }
        }
        // Step 1C: the last reference is the parent.
        if let Some(&last) = refs.last() {
            forest.link(last, own);
        }
    }
    limit_depth(&mut forest);
    // Steps 2-3: roots, and dummies pruned or promoted.
    let mut roots: Vec<usize> = (0..forest.nodes.len())
        .filter(|&n| forest.nodes[n].parent.is_none())
        .collect();
    prune(&mut forest, &mut roots);
    // Step 5: threads whose roots share a base subject are merged.
    let merged = merge_by_subject(&mut forest, roots);
    let root = forest.nodes.len();
    forest.nodes.push(Node::default());
    for r in merged {
        forest.nodes[r].parent = Some(root);
        forest.nodes[root].children.push(r);
    }
    forest
}

/// References kept per message.
const MAX_REFERENCES: usize = 100;
/// Deepest a thread may go; a deeper message starts a thread of its own.
/// The tree is walked recursively below, and messages replying to each
/// other without end must not exhaust the stack.
const MAX_THREAD_DEPTH: usize = 1000;

/// Cuts every node deeper than [`MAX_THREAD_DEPTH`] from its parent.
/// Depths are found walking up each node's parents once (memoized).
fn limit_depth(forest: &mut Forest<'_>) {
    const UNKNOWN: usize = usize::MAX;
    let mut depth = vec![UNKNOWN; forest.nodes.len()];
    for start in 0..forest.nodes.len() {
        let mut path = Vec::new();
        let mut cur = start;
        let mut above = loop {
            if depth[cur] != UNKNOWN {
                break Some(depth[cur]);
            }
            path.push(cur);
            match forest.nodes[cur].parent {
                Some(parent) => cur = parent,
                None => break None,
            }
        };
        for &node in path.iter().rev() {
            let d = above.map_or(0, |a| a + 1);
            if d > MAX_THREAD_DEPTH {
                if let Some(parent) = forest.nodes[node].parent.take() {
                    forest.nodes[parent].children.retain(|&c| c != node);
                }
                depth[node] = 0;
            } else {
                depth[node] = d;
            }
            above = Some(depth[node]);
        }
    }
}

/// RFC 5256 4 step 5: threads whose roots have the same base subject
/// become one. The subject table keeps, per subject, a dummy root over a
/// message, and an original over a reply; then each other root joins the
/// table's: a dummy's children go under the table's dummy, a message goes
/// under a dummy, a reply under the original, and two originals under a
/// new dummy. Returns the new root set.
fn merge_by_subject(forest: &mut Forest<'_>, roots: Vec<usize>) -> Vec<usize> {
    let is_dummy = |forest: &Forest<'_>, n: usize| forest.nodes[n].message.is_none();
    let is_reply = |forest: &Forest<'_>, n: usize| {
        forest.nodes[n]
            .message
            .is_some_and(|m| forest.messages[m].reply)
    };
    // 5B: the table.
    let mut table: HashMap<String, usize> = HashMap::new();
    for &root in &roots {
        let subject = subject_of(forest, root);
        if subject.is_empty() {
            continue;
        }
        let replaces = |have: usize| {
            (is_dummy(forest, root) && !is_dummy(forest, have))
                || (is_reply(forest, have) && !is_reply(forest, root))
        };
        if table.get(&subject).is_none_or(|&have| replaces(have)) {
            table.insert(subject, root);
        }
    }
    // 5C: every other root joins its subject's entry.
    let mut kept: Vec<usize> = Vec::new();
    for root in roots {
        let subject = subject_of(forest, root);
        let Some(&have) = table.get(&subject).filter(|_| !subject.is_empty()) else {
            kept.push(root);
            continue;
        };
        if have == root {
            kept.push(root);
            continue;
        }
        match (is_dummy(forest, have), is_dummy(forest, root)) {
            (true, true) => {
                for child in std::mem::take(&mut forest.nodes[root].children) {
                    forest.nodes[child].parent = None;
                    forest.link(have, child);
                }
            }
            (true, false) => forest.link(have, root),
            (false, true) => {
                // Not reached: 5B prefers a dummy for the table.
                forest.link(root, have);
                table.insert(subject, root);
                kept.push(root);
            }
            (false, false) if is_reply(forest, root) && !is_reply(forest, have) => {
                forest.link(have, root);
            }
            (false, false) => {
                let dummy = forest.nodes.len();
                forest.nodes.push(Node::default());
                forest.link(dummy, have);
                forest.link(dummy, root);
                table.insert(subject, dummy);
                if let Some(at) = kept.iter().position(|&r| r == have) {
                    kept[at] = dummy;
                } else {
                    kept.push(dummy);
                }
            }
        }
    }
    // A table entry that joined a new dummy before its own turn came is
    // no longer a root.
    kept.retain(|&r| forest.nodes[r].parent.is_none());
    kept.dedup();
    kept
}

fn subject_of(forest: &Forest<'_>, node: usize) -> String {
    match forest.nodes[node].message {
        Some(m) => forest.messages[m].subject.clone(),
        None => forest.nodes[node]
            .children
            .first()
            .map(|&c| subject_of(forest, c))
            .unwrap_or_default(),
    }
}

/// RFC 5256 4 step 3: empty dummies go; a dummy's children move up (at
/// the root only if it has a single child).
fn prune(forest: &mut Forest<'_>, roots: &mut Vec<usize>) {
    fn walk(forest: &mut Forest<'_>, node: usize, is_root: bool) -> Vec<usize> {
        let children = std::mem::take(&mut forest.nodes[node].children);
        let mut kept = Vec::new();
        for c in children {
            kept.extend(walk(forest, c, false));
        }
        for &c in &kept {
            forest.nodes[c].parent = Some(node);
        }
        forest.nodes[node].children = kept;
        let dummy = forest.nodes[node].message.is_none();
        match (dummy, forest.nodes[node].children.len()) {
            (false, _) => vec![node],
            (true, 0) => Vec::new(),
            (true, 1) | (true, _) if !is_root => std::mem::take(&mut forest.nodes[node].children),
            (true, 1) => {
                let only = forest.nodes[node].children[0];
                forest.nodes[node].children.clear();
                forest.nodes[only].parent = None;
                vec![only]
            }
            (true, _) => vec![node],
        }
    }
    let mut out = Vec::new();
    for &r in roots.iter() {
        for n in walk(forest, r, true) {
            forest.nodes[n].parent = None;
            out.push(n);
        }
    }
    *roots = out;
}

impl Session {
    pub(crate) async fn thread(
        &mut self,
        algorithm: &ThreadingAlgorithm<'_>,
        keys: &[SearchKey<'_>],
        uid: bool,
    ) -> Done {
        let seqs = match self.matching(keys).await {
            Ok(s) => s,
            Err(done) => return done,
        };
        let summaries = match self.summaries(&seqs).await {
            Ok(s) => s,
            Err(done) => return done,
        };
        let mut forest = match algorithm {
            ThreadingAlgorithm::OrderedSubject => ordered_subject(&summaries),
            ThreadingAlgorithm::References => references(&summaries),
            ThreadingAlgorithm::Other(_) => return Done::bad("Unsupported threading algorithm"),
        };
        let mut roots: Vec<usize> = (0..forest.nodes.len())
            .filter(|&n| forest.nodes[n].parent.is_none())
            .collect();
        // The REFERENCES forest hangs under one synthetic root.
        if let [single] = roots.as_slice()
            && forest.nodes[*single].message.is_none()
            && matches!(algorithm, ThreadingAlgorithm::References)
        {
            roots = forest.nodes[*single].children.clone();
        }
        for &r in &roots {
            forest.sort_children(r);
        }
        roots.sort_by_key(|&r| forest.date(r));
        let numbers = |m: usize| {
            let s = &summaries[m];
            if uid {
                s.uid.to_string()
            } else {
                s.seq.to_string()
            }
        };
        let threads: String = roots
            .iter()
            .map(|&r| format!("({})", forest.chain(r, &numbers)))
            .collect();
        let line = format!("THREAD {threads}");
        self.untagged(line.trim_end());
        Done::ok("THREAD completed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_without_end_do_not_exhaust_the_stack() {
        // 20,000 messages, each replying to the one before.
        let summaries: Vec<Summary> = (0..20_000)
            .map(|i| Summary {
                message_id: Some(format!("m{i}")),
                references: if i == 0 {
                    Vec::new()
                } else {
                    vec![format!("m{}", i - 1)]
                },
                ..Summary::unparsed(i + 1, i as u32 + 1, 1, i as i64)
            })
            .collect();
        // A worker thread's stack.
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut forest = references(&summaries);
                let roots: Vec<usize> = (0..forest.nodes.len())
                    .filter(|&n| forest.nodes[n].parent.is_none())
                    .collect();
                for &r in &roots {
                    forest.sort_children(r);
                }
                let shown: String = roots
                    .iter()
                    .map(|&r| forest.chain(r, &|m| (m + 1).to_string()))
                    .collect();
                assert!(shown.contains("1 2 3 4"), "{}", &shown[..40]);
                // Cut into threads of at most the depth limit, none lost.
                assert_eq!(
                    shown
                        .split([' ', '(', ')'])
                        .filter(|w| !w.is_empty())
                        .count(),
                    20_000
                );
            })
            .expect("thread")
            .join()
            .expect("no stack overflow");
    }
}
