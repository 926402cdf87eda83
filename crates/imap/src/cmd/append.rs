//! APPEND (RFC 3501 6.3.11) with UIDPLUS APPENDUID.

use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;

use super::refuse;
use super::store::split_flags;
use crate::session::{Done, Session};

impl Session {
    pub(crate) async fn append(
        &mut self,
        mailbox: &WireMailbox<'_>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let (system, keywords) = match split_flags(&flags) {
            Ok(split) => split,
            Err(done) => return done,
        };
        let body: Vec<u8> = match message {
            LiteralOrLiteral8::Literal(l) => l.data().to_vec(),
            LiteralOrLiteral8::Literal8(l) => l.data.to_vec(),
        };
        let Some(account) = self.account.clone() else {
            return Done::bad("Log in first");
        };
        let mail = self.server.mail.clone();
        let target = match mail.mailbox(account.id, &name).await {
            Ok(Some(m)) => m,
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("TRYCREATE"),
            Err(e) => return refuse(e),
        };
        let internal_date = date.map(|d| d.as_ref().timestamp());
        match mail
            .append(&account, &target, body, system, keywords, internal_date)
            .await
        {
            Ok(delivered) => Done::ok("APPEND completed").code(format!(
                "APPENDUID {} {}",
                target.uidvalidity, delivered.uid
            )),
            Err(e) => refuse(e),
        }
    }
}
