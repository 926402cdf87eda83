//! Results for people (aligned tables) or scripts (`--json`).

use serde::Serialize;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints rows as a table, or the values as a JSON array.
    pub fn list<T: Serialize>(
        &self,
        items: &[T],
        header: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) {
        if self.json {
            println!("{}", to_json(items));
            return;
        }
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        print!("{}", table(header, &rows));
    }

    /// Prints one value as `key: value` lines, or as a JSON object.
    pub fn one<T: Serialize>(&self, item: &T, fields: &[(&str, String)]) {
        if self.json {
            println!("{}", to_json(item));
            return;
        }
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in fields {
            println!("{key:width$}  {value}");
        }
    }

    /// Confirms a change: a sentence for people, `{"ok": true, ...}` for scripts.
    pub fn done(&self, message: &str) {
        if self.json {
            println!("{}", serde_json::json!({ "ok": true, "message": message }));
        } else {
            println!("{message}");
        }
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells.zip(&widths).map(|(c, w)| format!("{c:w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_are_aligned() {
        let t = super::table(
            &["NAME", "N"],
            &[
                vec!["a".into(), "1".into()],
                vec!["longer".into(), "22".into()],
            ],
        );
        assert_eq!(t, "NAME    N\na       1\nlonger  22\n");
    }
}
