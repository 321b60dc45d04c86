//! What a folder of rule files covers, quarter by quarter: which form,
//! ruleset, targets and tasks are in force, and what looks like a gap or a slip (a
//! quarter with a ruleset but no targets, a tasks file copied from last
//! year with last year's due dates).

use super::load::RuleBook;
use super::model::{Due, FormFile, Ruleset, TargetSet, TaskSet};
use crate::domain::Period;

/// The files in force for one quarter.
#[derive(Debug, Clone, Copy)]
pub struct Cover<'a> {
    pub form: Option<&'a FormFile>,
    pub ruleset: Option<&'a Ruleset>,
    pub targets: Option<&'a TargetSet>,
    pub tasks: Option<&'a TaskSet>,
}

impl Cover<'_> {
    fn same(&self, other: &Cover<'_>) -> bool {
        fn key<T>(x: Option<&T>) -> Option<*const T> {
            x.map(|r| r as *const T)
        }
        key(self.form) == key(other.form)
            && key(self.ruleset) == key(other.ruleset)
            && key(self.targets) == key(other.targets)
            && key(self.tasks) == key(other.tasks)
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_none()
            && self.ruleset.is_none()
            && self.targets.is_none()
            && self.tasks.is_none()
    }
}

/// A run of consecutive quarters with the same files in force; `open`
/// when the last one stays in force with no end date.
#[derive(Debug, Clone)]
pub struct Span<'a> {
    pub from: Period,
    pub to: Period,
    pub open: bool,
    pub cover: Cover<'a>,
}

impl Span<'_> {
    /// "Quý I/2022 – Quý IV/2022", "từ Quý I/2026".
    pub fn label(&self) -> String {
        if self.open {
            format!("từ {}", self.from.label_vi())
        } else if self.from == self.to {
            self.from.label_vi()
        } else {
            format!("{} – {}", self.from.label_vi(), self.to.label_vi())
        }
    }
}

/// Coverage of the quarters from the earliest file's start to the latest
/// end (or start, for a file with no end), grouped into runs.
pub fn spans(book: &RuleBook) -> Vec<Span<'_>> {
    let ranges: Vec<(Period, Option<Period>)> = book
        .forms
        .iter()
        .map(|f| f.effective)
        .chain(book.rulesets.iter().map(|r| r.effective))
        .chain(book.targets.iter().map(|t| t.effective))
        .chain(book.tasks.iter().map(|t| t.effective))
        .map(|(from, to)| (from.first_quarter(), to.map(Period::last_quarter)))
        .collect();
    let Some(first) = ranges.iter().map(|r| r.0).min() else {
        return Vec::new();
    };
    let open_ended = ranges.iter().any(|r| r.1.is_none());
    let last = ranges
        .iter()
        .map(|r| r.1.unwrap_or(r.0))
        .max()
        .unwrap_or(first);
    // With a file that has no end, one quarter past the last date any file
    // names shows what stays in force from then on.
    let last = if open_ended { last.next() } else { last };
    let mut out: Vec<Span<'_>> = Vec::new();
    let mut q = first;
    loop {
        let cover = Cover {
            form: book.form_file_for(q),
            ruleset: book.ruleset_for(q),
            targets: book.targets_for(q),
            tasks: book.tasks_for(q),
        };
        match out.last_mut() {
            Some(s) if s.cover.same(&cover) => s.to = q,
            _ => out.push(Span {
                from: q,
                to: q,
                open: false,
                cover,
            }),
        }
        if q >= last {
            break;
        }
        q = q.next();
    }
    if open_ended && let Some(s) = out.last_mut() {
        s.open = !s.cover.is_empty();
    }
    out
}

/// What deserves a second look before the quarter is scored, from the
/// book and its `spans`.
pub fn warnings(book: &RuleBook, spans: &[Span<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for s in spans {
        let c = s.cover;
        let when = s.label();
        match (c.ruleset, c.targets, c.tasks) {
            (None, None, None) => out.push(format!(
                "{when}: không có tệp quy tắc nào có hiệu lực; các quý này không chấm được"
            )),
            (None, ..) => out.push(format!(
                "{when}: có mục tiêu hoặc nhiệm vụ nhưng không có bộ chỉ số (kind = \"ruleset\"); các quý này không chấm được"
            )),
            (Some(_), None, _) => out.push(format!(
                "{when}: có bộ chỉ số nhưng không có tệp mục tiêu (kind = \"targets\") nào có hiệu lực; báo cáo sẽ không có phần mục tiêu"
            )),
            _ => {}
        }
        if c.ruleset.is_some() && c.form.is_none() {
            out.push(format!(
                "{when}: có bộ chỉ số nhưng không có biểu mẫu (kind = \"form\") nào có hiệu lực; không lập được mẫu báo cáo, không đọc được báo cáo của các quý này"
            ));
        }
        if c.ruleset.is_some() && c.tasks.is_none() {
            out.push(format!(
                "{when}: có bộ chỉ số nhưng không có tệp nhiệm vụ (kind = \"tasks\") nào có hiệu lực; báo cáo sẽ không có phần nhiệm vụ và sheet nhiệm vụ của mẫu báo cáo sẽ trống"
            ));
        }
    }
    for set in &book.tasks {
        let (from, to) = (set.effective.0.year(), set.effective.1.map(|p| p.year()));
        for task in &set.tasks {
            let Due::Date(d) = task.due else { continue };
            let year = chrono::Datelike::year(&d);
            if year < from || to.is_some_and(|to| year > to) {
                let range = match to {
                    Some(to) if to == from => format!("năm {from}"),
                    Some(to) => format!("các năm {from}–{to}"),
                    None => format!("từ năm {from}"),
                };
                out.push(format!(
                    "{}: nhiệm vụ {} hạn {} nằm ngoài thời gian hiệu lực của tệp ({range}); có phải tệp được sao từ năm khác mà chưa sửa hạn?",
                    set.file.display(),
                    task.code,
                    d.format("%d/%m/%Y")
                ));
            }
        }
    }
    out
}
