//! mail-parser's tree of a message, parsed with no depth limit and, as
//! its own types would, dropped by recursion: one level per attached
//! message. A crafted message of a few megabytes nests hundreds of
//! thousands of them and would overflow the stack of whatever thread
//! drops it (a remote sender could stop the server). This wrapper takes
//! the attached messages apart one by one instead. Every parse of a whole
//! message in mailroom goes through here.

use std::ops::Deref;

use mail_parser::{Message, MessageParser, PartType};

pub struct MimeTree<'x>(Option<Message<'x>>);

/// Parses a whole message (headers and every part).
pub fn parse(raw: &[u8]) -> Option<MimeTree<'_>> {
    MessageParser::default()
        .parse(raw)
        .map(|m| MimeTree(Some(m)))
}

impl<'x> Deref for MimeTree<'x> {
    type Target = Message<'x>;

    fn deref(&self) -> &Message<'x> {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for MimeTree<'_> {
    fn drop(&mut self) {
        let mut pending: Vec<Message<'_>> = self.0.take().into_iter().collect();
        while let Some(mut message) = pending.pop() {
            for part in &mut message.parts {
                if let PartType::Message(inner) = std::mem::take(&mut part.body) {
                    pending.push(inner);
                }
            }
            // `message` now holds no attached message: dropped flat.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_nested_without_end_is_dropped_without_recursion() {
        let mut raw = String::new();
        for _ in 0..200_000 {
            raw.push_str("From: a@b.test\r\nContent-Type: message/rfc822\r\n\r\n");
        }
        raw.push_str("From: a@b.test\r\n\r\nhi\r\n");
        // A small stack, as a server's worker threads have.
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let tree = parse(raw.as_bytes()).expect("parsed");
                assert_eq!(tree.parts.len(), 1);
            })
            .expect("thread")
            .join()
            .expect("no stack overflow");
    }
}
