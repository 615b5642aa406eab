//! Plain text tables for people: columns padded to their widest cell, headers in capitals.

use std::fmt::Write;

/// A table being filled row by row.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|header| header.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; cells beyond the headers are dropped, missing ones are empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, the last column unpadded.
    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let cell = |row: &[String], column: usize| row.get(column).map(String::as_str).unwrap_or_default().to_owned();
        let widths: Vec<usize> = (0..columns)
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| cell(row, column).chars().count())
                    .chain([self.headers[column].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (column, width) in widths.iter().enumerate() {
                let value = cell(row, column);
                if column + 1 == columns {
                    line.push_str(&value);
                } else {
                    let _ = write!(line, "{value:<width$}  ");
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut table = Table::new(&["name", "status"]);
        table.row(vec!["a-long-name".into(), "RUNNING".into()]);
        table.row(vec!["b".into()]);
        assert_eq!(table.render(), "NAME         STATUS\na-long-name  RUNNING\nb\n");
    }
}
