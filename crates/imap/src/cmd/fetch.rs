//! FETCH (RFC 3501 6.4.5): flags and dates from the in-memory view; bodies,
//! ENVELOPE and BODYSTRUCTURE from the stored message.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::{
    Macro, MacroOrMessageDataItemNames, MessageDataItemName, Part, Section,
};
use imap_codec::imap_types::sequence::SequenceSet;
use mail_parser::{Message, MimeHeaders, PartType};
use mailroom_core::store::{FlagChange, FlagOp, Flags};

use super::refuse;
use crate::mime;
use crate::parsed::Parsed;
use crate::response::{internal_date, literal, write_flags};
use crate::session::{Done, Session};
use crate::view::ViewMessage;

/// Flush large responses as they are built rather than holding them all.
const FLUSH_AT: usize = 1 << 20;

fn expand(items: MacroOrMessageDataItemNames<'static>) -> Vec<MessageDataItemName<'static>> {
    use MessageDataItemName as I;
    match items {
        MacroOrMessageDataItemNames::Macro(m) => {
            let mut v = vec![I::Flags, I::InternalDate, I::Rfc822Size];
            if matches!(m, Macro::All | Macro::Full) {
                v.push(I::Envelope);
            }
            if matches!(m, Macro::Full) {
                v.push(I::Body);
            }
            v
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(v) => v,
    }
}

fn needs_content(item: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as I;
    !matches!(
        item,
        I::Flags | I::InternalDate | I::Rfc822Size | I::Uid | I::ModSeq
    )
}

/// Items that need the message parsed (not only its bytes).
fn needs_parse(item: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as I;
    match item {
        I::Rfc822Header | I::Rfc822Text => true,
        I::BodyExt { section, .. } => section.is_some(),
        I::Binary { section, .. } | I::BinarySize { section } => !section.is_empty(),
        _ => false,
    }
}

/// Messages read from the store in one call while fetching bodies.
const CONTENT_CHUNK: usize = 32;

/// Items the parsed-structure cache cannot answer.
fn needs_raw(item: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as I;
    needs_content(item) && !matches!(item, I::Envelope | I::Body | I::BodyStructure)
}

fn supported(item: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as I;
    matches!(
        item,
        I::Uid
            | I::Flags
            | I::InternalDate
            | I::Rfc822Size
            | I::ModSeq
            | I::Envelope
            | I::BodyStructure
            | I::Body
            | I::Rfc822
            | I::Rfc822Header
            | I::Rfc822Text
            | I::BodyExt { .. }
            | I::Binary { .. }
            | I::BinarySize { .. }
    )
}

fn sets_seen(item: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as I;
    matches!(
        item,
        I::Rfc822 | I::Rfc822Text | I::BodyExt { peek: false, .. } | I::Binary { peek: false, .. }
    )
}

fn part_path(part: &Part) -> Vec<u32> {
    part.0.as_ref().iter().map(|n| n.get()).collect()
}

fn path_text(part: &Part) -> String {
    part_path(part)
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The name a section is echoed with: `1.2.MIME`, `HEADER.FIELDS (A B)`.
fn section_name(section: &Option<Section<'_>>) -> String {
    let with_path = |p: &Option<Part>, what: &str| match p {
        Some(p) => format!("{}.{what}", path_text(p)),
        None => what.to_string(),
    };
    let names = |list: &[imap_codec::imap_types::core::AString<'_>]| {
        list.iter()
            .map(|n| String::from_utf8_lossy(n.as_ref()).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match section {
        None => String::new(),
        Some(Section::Part(p)) => path_text(p),
        Some(Section::Header(p)) => with_path(p, "HEADER"),
        Some(Section::Text(p)) => with_path(p, "TEXT"),
        Some(Section::Mime(p)) => format!("{}.MIME", path_text(p)),
        Some(Section::HeaderFields(p, list)) => format!(
            "{} ({})",
            with_path(p, "HEADER.FIELDS"),
            names(list.as_ref())
        ),
        Some(Section::HeaderFieldsNot(p, list)) => {
            format!(
                "{} ({})",
                with_path(p, "HEADER.FIELDS.NOT"),
                names(list.as_ref())
            )
        }
    }
}

/// The message a HEADER/TEXT section with a path refers to, and the bytes
/// its offsets count in.
fn nested<'a, 'x>(
    raw: &'a [u8],
    msg: &'a Message<'x>,
    path: &Option<Part>,
) -> Option<(&'a [u8], &'a Message<'x>)> {
    match path {
        None => Some((raw, msg)),
        Some(p) => {
            let (buffer, _, part) = mime::find_part(raw, msg, &part_path(p))?;
            match &part.body {
                PartType::Message(inner) => Some((mime::buffer_of(buffer, inner), inner)),
                _ => None,
            }
        }
    }
}

fn section_bytes(raw: &[u8], msg: Option<&Message<'_>>, section: &Option<Section<'_>>) -> Vec<u8> {
    let Some(section) = section else {
        return raw.to_vec();
    };
    let Some(msg) = msg else {
        return Vec::new();
    };
    let header_of =
        |(buffer, m): (&[u8], &Message<'_>)| mime::part_header(buffer, m.root_part()).to_vec();
    let names = |list: &[imap_codec::imap_types::core::AString<'_>]| {
        list.iter()
            .map(|n| String::from_utf8_lossy(n.as_ref()).into_owned())
            .collect::<Vec<_>>()
    };
    let found = match section {
        Section::Part(p) => mime::find_part(raw, msg, &part_path(p))
            .map(|(buffer, _, part)| mime::part_body(buffer, part).to_vec()),
        Section::Mime(p) => mime::find_part(raw, msg, &part_path(p))
            .map(|(buffer, _, part)| mime::part_header(buffer, part).to_vec()),
        Section::Header(p) => nested(raw, msg, p).map(header_of),
        Section::Text(p) => {
            nested(raw, msg, p).map(|(buffer, m)| mime::part_body(buffer, m.root_part()).to_vec())
        }
        Section::HeaderFields(p, list) => nested(raw, msg, p)
            .map(|m| mime::header_fields(&header_of(m), &names(list.as_ref()), false)),
        Section::HeaderFieldsNot(p, list) => nested(raw, msg, p)
            .map(|m| mime::header_fields(&header_of(m), &names(list.as_ref()), true)),
    };
    found.unwrap_or_default()
}

/// What is known of one message while its FETCH response is written.
struct Found<'r, 'm> {
    raw: &'r [u8],
    parsed: Option<&'r Message<'m>>,
    summary: Option<&'r Parsed>,
}

impl Found<'_, '_> {
    /// Nothing read: for items held in memory.
    const NONE: Found<'static, 'static> = Found {
        raw: &[],
        parsed: None,
        summary: None,
    };
}

/// RFC 3516: the content of a part with its transfer encoding undone.
/// An empty path is the whole message; a multipart or message part is
/// returned as stored.
fn binary_bytes(raw: &[u8], msg: Option<&Message<'_>>, path: &[u32]) -> Result<Vec<u8>, Done> {
    if path.is_empty() {
        return Ok(raw.to_vec());
    }
    let Some((buffer, _, part)) = msg.and_then(|m| mime::find_part(raw, m, path)) else {
        return Ok(Vec::new());
    };
    let body = mime::part_body(buffer, part);
    if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
        return Ok(body.to_vec());
    }
    let encoding = part
        .content_transfer_encoding()
        .map(|e| e.trim().to_ascii_lowercase());
    let unknown = || Done::no("Cannot decode this part's transfer encoding").code("UNKNOWN-CTE");
    match encoding.as_deref() {
        None | Some("7bit" | "8bit" | "binary") => Ok(body.to_vec()),
        Some("base64") => mail_parser::decoders::base64::base64_decode(body).ok_or_else(unknown),
        Some("quoted-printable") => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
                .ok_or_else(unknown)
        }
        Some(_) => Err(unknown()),
    }
}

fn section_path_text(path: &[std::num::NonZeroU32]) -> String {
    path.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// Data with an optional `<start.length>` window applied, and the origin
/// to echo (RFC 3501 6.4.5).
fn window(data: &[u8], partial: &Option<(u32, std::num::NonZeroU32)>) -> (Option<u32>, Vec<u8>) {
    match partial {
        Some((start, length)) => {
            let from = (*start as usize).min(data.len());
            let to = from.saturating_add(length.get() as usize).min(data.len());
            (Some(*start), data[from..to].to_vec())
        }
        None => (None, data.to_vec()),
    }
}

impl Session {
    pub(crate) async fn fetch(
        &mut self,
        set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: &[FetchModifier],
    ) -> Done {
        let mut items = expand(items);
        let mut changed_since = None;
        let mut vanished = false;
        for modifier in modifiers {
            match modifier {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        if vanished && !(uid && self.enabled.qresync && changed_since.is_some()) {
            return Done::bad("VANISHED needs UID FETCH, QRESYNC and CHANGEDSINCE");
        }
        if changed_since.is_some() || items.contains(&MessageDataItemName::ModSeq) {
            // RFC 7162 3.1: using CONDSTORE features enables it.
            self.enabled.condstore = true;
            if !items.contains(&MessageDataItemName::ModSeq) {
                items.push(MessageDataItemName::ModSeq);
            }
        }
        if uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        if !items.iter().all(supported) {
            return Done::bad("Unsupported FETCH data item");
        }
        let Some(view) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if let Some(bad) = self.out_of_range(set, uid) {
            return bad;
        }
        let mut seqs = view.resolve(set, uid);
        if let Some(since) = changed_since {
            seqs.retain(|&s| view.messages[s - 1].modseq > since);
        }
        let mailbox = view.mailbox.clone();
        if let (true, Some(since)) = (vanished, changed_since) {
            match self.server.mail.expunged_since(mailbox.id, since).await {
                Ok(mut gone) => {
                    gone.retain(|u| super::select::uid_in_set(set, *u));
                    if !gone.is_empty() {
                        self.untagged(&format!(
                            "VANISHED (EARLIER) {}",
                            crate::view::uid_set(&gone)
                        ));
                    }
                }
                Err(e) => return refuse(e),
            }
        }
        let Some(view) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        let mail = self.server.mail.clone();
        // RFC 3501 6.4.5: fetching a body without .PEEK sets \Seen.
        if !view.read_only && items.iter().any(sets_seen) {
            let unseen: Vec<u32> = seqs
                .iter()
                .map(|&s| &view.messages[s - 1])
                .filter(|m| !m.flags.contains(Flags::SEEN))
                .map(|m| m.uid)
                .collect();
            if !unseen.is_empty() {
                let change = FlagChange {
                    uids: unseen,
                    op: FlagOp::Add,
                    flags: Flags::SEEN,
                    keywords: Vec::new(),
                    unchanged_since: None,
                };
                match mail.set_flags(&mailbox, change).await {
                    Ok(outcome) => {
                        let view = self.selected.as_mut().expect("checked above");
                        for u in outcome.updated {
                            view.apply_own_flags(u.uid, u.modseq, u.flags, u.keywords);
                        }
                        if !items.contains(&MessageDataItemName::Flags) {
                            items.push(MessageDataItemName::Flags);
                        }
                        // RFC 7162 3.2.4: with CONDSTORE on, flags that
                        // changed come with their MODSEQ.
                        if self.enabled.condstore && !items.contains(&MessageDataItemName::ModSeq) {
                            items.push(MessageDataItemName::ModSeq);
                        }
                    }
                    Err(e) => return refuse(e),
                }
            }
        }
        if !items.iter().any(needs_content) {
            return self.fetch_from_memory(&seqs, &items).await;
        }
        let raw_needed = items.iter().any(needs_raw);
        let parse_needed = items.iter().any(needs_parse);
        let structure_wanted = items.iter().any(|i| !needs_raw(i) && needs_content(i));
        for chunk in seqs.chunks(CONTENT_CHUNK) {
            let Some(view) = self.selected.as_ref() else {
                break;
            };
            let messages: Vec<ViewMessage> = chunk
                .iter()
                .map(|&s| view.messages[s - 1].clone())
                .collect();
            let cached: Vec<Option<Arc<Parsed>>> = messages
                .iter()
                .map(|m| {
                    structure_wanted
                        .then(|| self.server.parsed.get(&m.blob))
                        .flatten()
                })
                .collect();
            // Read what the chunk needs from the store in one call.
            let wanted: Vec<u32> = messages
                .iter()
                .zip(&cached)
                .filter(|(_, c)| raw_needed || (structure_wanted && c.is_none()))
                .map(|(m, _)| m.uid)
                .collect();
            let mut contents: HashMap<u32, Vec<u8>> = if wanted.is_empty() {
                HashMap::new()
            } else {
                match mail.contents(mailbox.id, wanted.clone()).await {
                    Ok(found) => found.into_iter().collect(),
                    Err(e) => return refuse(e),
                }
            };
            for ((&seq, message), cached) in chunk.iter().zip(&messages).zip(cached) {
                let content = match contents.remove(&message.uid) {
                    Some(c) => c,
                    // Expunged by another session and not yet announced.
                    None if wanted.contains(&message.uid) => continue,
                    None => Vec::new(),
                };
                let parsed = if parse_needed || (structure_wanted && cached.is_none()) {
                    mime::parse(&content)
                } else {
                    None
                };
                let summary = match (cached, &parsed) {
                    (Some(c), _) => Some(c),
                    (None, Some(msg)) if structure_wanted => {
                        Some(self.server.parsed.fill(message.blob, &content, msg))
                    }
                    _ => None,
                };
                let mut out = Vec::with_capacity(content.len() + 256);
                let _ = write!(out, "* {seq} FETCH (");
                let found = Found {
                    raw: &content,
                    parsed: parsed.as_deref(),
                    summary: summary.as_deref(),
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    if let Err(done) = self.render_item(&mut out, item, message, &found) {
                        return done;
                    }
                }
                out.extend_from_slice(b")\r\n");
                let io = self.io();
                io.write(&out);
                if io.pending() > FLUSH_AT && io.flush().await.is_err() {
                    self.logout = true;
                    return Done::silent();
                }
            }
        }
        Done::ok("FETCH completed")
    }

    /// FETCH of items held in memory (FLAGS, UID, sizes, dates, MODSEQ):
    /// rendered in large batches straight from the view, nothing read.
    async fn fetch_from_memory(
        &mut self,
        seqs: &[usize],
        items: &[MessageDataItemName<'static>],
    ) -> Done {
        let mut out = Vec::with_capacity(64 * 1024);
        let mut next = 0;
        while next < seqs.len() {
            let Some(view) = self.selected.as_ref() else {
                break;
            };
            while next < seqs.len() && out.len() < FLUSH_AT {
                let seq = seqs[next];
                next += 1;
                let message = &view.messages[seq - 1];
                let _ = write!(out, "* {seq} FETCH (");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    if let Err(done) = self.render_item(&mut out, item, message, &Found::NONE) {
                        return done;
                    }
                }
                out.extend_from_slice(b")\r\n");
            }
            let io = self.io();
            io.write(&out);
            out.clear();
            if io.pending() > FLUSH_AT && io.flush().await.is_err() {
                self.logout = true;
                return Done::silent();
            }
        }
        Done::ok("FETCH completed")
    }

    fn render_item(
        &self,
        out: &mut Vec<u8>,
        item: &MessageDataItemName<'_>,
        message: &crate::view::ViewMessage,
        found: &Found<'_, '_>,
    ) -> Result<(), Done> {
        use MessageDataItemName as I;
        let raw = found.raw;
        let parsed = found.parsed;
        match item {
            I::Uid => {
                let _ = write!(out, "UID {}", message.uid);
            }
            I::Flags => {
                out.extend_from_slice(b"FLAGS ");
                let recent = !self.enabled.rev2
                    && self
                        .selected
                        .as_ref()
                        .is_some_and(|v| v.is_recent(message.uid));
                write_flags(out, message.flags, &message.keywords, recent);
            }
            I::InternalDate => {
                let _ = write!(out, "INTERNALDATE {}", internal_date(message.internal_date));
            }
            I::Rfc822Size => {
                let _ = write!(out, "RFC822.SIZE {}", message.size);
            }
            I::ModSeq => {
                let _ = write!(out, "MODSEQ ({})", message.modseq);
            }
            I::Envelope => {
                out.extend_from_slice(b"ENVELOPE ");
                match found.summary {
                    Some(s) => out.extend_from_slice(&s.envelope),
                    None => out.extend_from_slice(b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
                }
            }
            I::BodyStructure | I::Body => {
                let extended = matches!(item, I::BodyStructure);
                out.extend_from_slice(if extended {
                    b"BODYSTRUCTURE "
                } else {
                    b"BODY "
                });
                match found.summary {
                    Some(s) if extended => out.extend_from_slice(&s.body_structure),
                    Some(s) => out.extend_from_slice(&s.body),
                    None => out.extend_from_slice(b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)"),
                }
            }
            I::Rfc822 => {
                out.extend_from_slice(b"RFC822 ");
                literal(out, raw);
            }
            I::Rfc822Header => {
                out.extend_from_slice(b"RFC822.HEADER ");
                let header = section_bytes(raw, parsed, &Some(Section::Header(None)));
                literal(out, &header);
            }
            I::Rfc822Text => {
                out.extend_from_slice(b"RFC822.TEXT ");
                let text = section_bytes(raw, parsed, &Some(Section::Text(None)));
                literal(out, &text);
            }
            I::BodyExt {
                section, partial, ..
            } => {
                let data = section_bytes(raw, parsed, section);
                out.extend_from_slice(format!("BODY[{}]", section_name(section)).as_bytes());
                let (origin, data) = window(&data, partial);
                if let Some(origin) = origin {
                    out.extend_from_slice(format!("<{origin}>").as_bytes());
                }
                out.push(b' ');
                literal(out, &data);
            }
            I::Binary {
                section, partial, ..
            } => {
                let path: Vec<u32> = section.iter().map(|n| n.get()).collect();
                let data = binary_bytes(raw, parsed, &path)?;
                let name = format!("BINARY[{}]", section_path_text(section));
                out.extend_from_slice(name.as_bytes());
                let (origin, data) = window(&data, partial);
                if let Some(origin) = origin {
                    out.extend_from_slice(format!("<{origin}>").as_bytes());
                }
                out.push(b' ');
                // RFC 3516 4.3: NUL octets need a literal8.
                if data.contains(&0) {
                    out.push(b'~');
                }
                literal(out, &data);
            }
            I::BinarySize { section } => {
                let path: Vec<u32> = section.iter().map(|n| n.get()).collect();
                let size = binary_bytes(raw, parsed, &path)?.len();
                let name = format!("BINARY.SIZE[{}] {size}", section_path_text(section));
                out.extend_from_slice(name.as_bytes());
            }
        }
        Ok(())
    }
}
