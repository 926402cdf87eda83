//! Attachments that run code when opened, and names that hide their real
//! type behind a second extension (`invoice.pdf.exe`).

use super::Hit;
use crate::message::View;

const EXECUTABLE: &[&str] = &[
    "exe", "scr", "bat", "cmd", "com", "pif", "vbs", "vbe", "js", "jse", "jar", "msi", "ps1",
    "hta", "lnk", "cpl", "wsf", "reg", "dll", "app", "apk", "iso", "img",
];
const MACRO: &[&str] = &["docm", "xlsm", "pptm", "dotm", "xlam"];
const DOCUMENT: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "txt", "zip",
];

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    for name in &view.attachments {
        let parts: Vec<&str> = name.trim().trim_end_matches('.').split('.').collect();
        let Some(ext) = parts.last().filter(|_| parts.len() > 1) else {
            continue;
        };
        if EXECUTABLE.contains(ext) {
            hits.push("ATTACH_EXECUTABLE");
            if parts.len() > 2 && DOCUMENT.contains(&parts[parts.len() - 2]) {
                hits.push("ATTACH_DOUBLE_EXT");
            }
        } else if MACRO.contains(ext) {
            hits.push("ATTACH_MACRO");
        }
    }
}
