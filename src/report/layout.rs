//! The appendices' tables, laid out into pages by the engine itself.
//!
//! An appendix of a province runs to thousands of rows. Typst's table
//! resolves, measures and strokes every cell, which at 3,355 units was
//! nine tenths of the PDF's time and 200 MiB. The engine knows the font
//! (the same Liberation Serif it embeds), so it wraps each cell into
//! lines, fixes every row's height, and cuts the table into pages with
//! the header repeated on each. The template then only places each line
//! of text and draws a few rules per page, and the pages, separated by
//! explicit breaks, are laid out in parallel.

use serde_json::{Value, json};

/// The report's faces (Liberation Serif: regular, bold, italic, bold
/// italic), embedded in the PDF and measured here.
pub const FONTS: [&[u8]; 4] = [
    include_bytes!("../../templates/fonts/LiberationSerif-Regular.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-Bold.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-Italic.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-BoldItalic.ttf"),
];

/// Text size of the appendices' tables, points.
const SIZE: f64 = 10.0;
/// Space inside a cell: across and above/below its text, points.
const INSET_X: f64 = 3.0;
const INSET_Y: f64 = 5.0;
/// From the top of one line of a cell to the next: the cap height and
/// the paragraph's leading (0.6 em), as typst sets a wrapped cell.
const PITCH: f64 = SIZE * 1.3;
/// A line's own height as typst places it (cap height to baseline).
const LINE: f64 = SIZE * 0.7;
/// Kept free at the foot of each page, so that a rounding never pushes
/// the last row over the margin.
const SLACK: f64 = 4.0;
/// The height of the page's text block: A4 less the 20 mm margins.
const PAGE_HEIGHT_PT: f64 = (297.0 - 40.0) / 25.4 * 72.0;

/// The faces text is measured with: regular and bold.
fn face(bold: bool) -> Option<&'static ttf_parser::Face<'static>> {
    static FACES: std::sync::LazyLock<[Option<ttf_parser::Face<'static>>; 2]> =
        std::sync::LazyLock::new(|| {
            [
                ttf_parser::Face::parse(FONTS[0], 0).ok(),
                ttf_parser::Face::parse(FONTS[1], 0).ok(),
            ]
        });
    FACES[usize::from(bold)].as_ref()
}

/// How wide `text` sets at `size` points: the sum of its glyphs'
/// advances (kerning only narrows it), a whole em for a character the
/// face lacks.
pub fn advance(text: &str, size: f64, bold: bool) -> f64 {
    let Some(face) = face(bold) else {
        return size * text.chars().count() as f64;
    };
    let em = f64::from(face.units_per_em());
    let units: f64 = text
        .chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(em, f64::from)
        })
        .sum();
    units / em * size
}

/// `text` broken into lines no wider than `width` at word spaces, as a
/// left-aligned paragraph breaks (greedily). A word wider than the line
/// is a line of its own. An empty text is no line.
pub fn wrap(text: &str, width: f64, size: f64, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for part in text.split('\n') {
        let mut line = String::new();
        for word in part.split_whitespace() {
            if line.is_empty() {
                line.push_str(word);
                continue;
            }
            let candidate =
                advance(&line, size, bold) + advance(" ", size, bold) + advance(word, size, bold);
            if candidate <= width {
                line.push(' ');
                line.push_str(word);
            } else {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// How a column's text sits in its cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// A table to lay out: the header, the rows, each column's share of the
/// text block's width and its alignment.
pub struct Table<'a> {
    pub header: &'a [String],
    pub rows: &'a [Vec<String>],
    pub widths: &'a [f64],
    pub align: &'a [Align],
}

/// One row, laid out: its height and its lines, as (x, y from the row's
/// top, text).
struct Row {
    height: f64,
    lines: Vec<(f64, f64, String)>,
}

fn lay_row(cells: &[String], xs: &[f64], align: &[Align], bold: bool) -> Row {
    let mut lines = Vec::new();
    let mut most = 1usize;
    for (c, text) in cells.iter().enumerate() {
        let (Some(&x0), Some(&x1)) = (xs.get(c), xs.get(c + 1)) else {
            break;
        };
        let room = x1 - x0 - 2.0 * INSET_X;
        // A hair less than the room: typst's kerning and rounding never
        // make a line the engine thought fitted spill over.
        let wrapped = wrap(text, room - 0.5, SIZE, bold);
        most = most.max(wrapped.len());
        let how = align.get(c).copied().unwrap_or(Align::Left);
        for (k, line) in wrapped.into_iter().enumerate() {
            let w = advance(&line, SIZE, bold);
            let x = match how {
                Align::Left => x0 + INSET_X,
                Align::Right => x1 - INSET_X - w,
                Align::Centre => x0 + (x1 - x0 - w) / 2.0,
            };
            lines.push((x, INSET_Y + k as f64 * PITCH, line));
        }
    }
    Row {
        height: (2.0 * INSET_Y + LINE + (most - 1) as f64 * PITCH).ceil(),
        lines,
    }
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn placed(lines: &[(f64, f64, String)], top: f64) -> Vec<Value> {
    lines
        .iter()
        .map(|(x, y, t)| json!([r2(*x), r2(top + y), t]))
        .collect()
}

/// The table cut into pages of the text block's height, `first` points
/// of the first page being taken already (by the appendix's title). Each
/// page: its height, its header's and rows' lines of text as
/// `[x, y, text]`, the y of each rule across and the x of each rule down.
pub fn pages(t: &Table, total_width: f64, first: f64) -> Vec<Value> {
    let sum: f64 = t.widths.iter().sum();
    let mut xs = vec![0.0];
    for w in t.widths {
        xs.push(xs.last().copied().unwrap_or(0.0) + total_width * w / sum);
    }
    let head = lay_row(t.header, &xs, &vec![Align::Centre; t.header.len()], true);
    let vr: Vec<f64> = xs.iter().map(|x| r2(*x)).collect();
    let mut out = Vec::new();
    let mut room = PAGE_HEIGHT_PT - first - SLACK;
    let mut rows = t
        .rows
        .iter()
        .map(|r| lay_row(r, &xs, t.align, false))
        .peekable();
    while rows.peek().is_some() || out.is_empty() {
        let mut y = head.height;
        let mut cells = Vec::new();
        let mut hr = vec![0.0, r2(y)];
        // At least one row on every page, however tall.
        while let Some(row) = rows.next_if(|r| cells.is_empty() || y + r.height <= room) {
            cells.extend(placed(&row.lines, y));
            y += row.height;
            hr.push(r2(y));
        }
        out.push(json!({
            "height": r2(y),
            "head": placed(&head.lines, 0.0),
            "cells": cells,
            "hr": hr,
            "vr": vr,
        }));
        room = PAGE_HEIGHT_PT - SLACK;
    }
    out
}

/// Roughly the height of an appendix's title block (its number, title
/// and the line that ties it to the report), a little over rather than
/// under so that the first page's table is never pushed to the next.
pub fn title_height(title: &str, note: &str, width: f64) -> f64 {
    let lines =
        1 + wrap(title, width, 13.0, true).len() + wrap(note, width * 0.97, 12.0, false).len();
    lines as f64 * 13.0 * 1.3 + 6.5 + 16.0 + 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_wraps_at_a_space_and_each_line_fits() {
        let name = "Ủy ban nhân dân phường Hoa Lư thuộc tỉnh Ninh Bình";
        let lines = wrap(name, 80.0, SIZE, false);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), name);
        for l in &lines {
            assert!(advance(l, SIZE, false) <= 80.0 || !l.contains(' '), "{l}");
        }
        assert!(wrap("", 80.0, SIZE, false).is_empty());
    }

    #[test]
    fn rows_fill_pages_and_each_page_repeats_the_header() {
        let header: Vec<String> = ["Hạng", "Đơn vị", "Tổng"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = (1..=300)
            .map(|i| {
                vec![
                    i.to_string(),
                    format!("Ủy ban nhân dân xã Số {i}"),
                    "90,00".into(),
                ]
            })
            .collect();
        let align = [Align::Centre, Align::Left, Align::Right];
        let t = Table {
            header: &header,
            rows: &rows,
            widths: &[1.0, 4.0, 1.0],
            align: &align,
        };
        let pages = pages(&t, 467.7, 100.0);
        assert!(pages.len() > 5);
        let mut seen = 0;
        for (i, p) in pages.iter().enumerate() {
            let height = p["height"].as_f64().unwrap();
            let room = PAGE_HEIGHT_PT - if i == 0 { 100.0 } else { 0.0 };
            assert!(height <= room, "page {i}: {height} > {room}");
            assert_eq!(p["head"][1][2], "Đơn vị");
            seen += p["cells"].as_array().unwrap().len() / 3;
        }
        assert_eq!(seen, 300);
        // A right-aligned figure ends at its column's edge less the inset.
        let first = &pages[0]["cells"][2];
        let right = first[0].as_f64().unwrap() + advance("90,00", SIZE, false);
        assert!((right - (467.7 - INSET_X)).abs() < 0.05, "{right}");
    }
}
