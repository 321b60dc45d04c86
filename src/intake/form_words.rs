//! The words intake finds a workbook's tables by, from the forms in force:
//! Form 06's column groups and columns, and the indicators' codes and
//! labels.

use crate::domain::ascii_fold;

/// The words intake finds a form's tables by: Form 06's column groups and
/// columns, and the indicators, of every form (a workbook's period is
/// known only once it is read; the check then takes the columns of the
/// form in force for it), by code and by folded label.
pub struct FormWords {
    indicators: Vec<(String, String)>,
    /// Each group's folded words, in the order they are tried.
    pub(super) groups: Vec<Vec<String>>,
    /// Form 06's columns of every form, once per code, in the first
    /// form's order and then the others'.
    pub(super) columns: Vec<WordColumn>,
    /// The last column number of the forms: the fewest and the most.
    pub(super) last_number: (u32, u32),
}

/// A Form 06 column as intake finds it.
pub(super) struct WordColumn {
    pub code: String,
    pub number: u32,
    /// Its group's index in `groups`.
    pub group: usize,
    pub words: Vec<String>,
    /// The group's total.
    pub total: bool,
}

impl FormWords {
    pub fn of(forms: &[&crate::domain::Form]) -> FormWords {
        let mut indicators: Vec<(String, String)> = Vec::new();
        for f in forms {
            for i in &f.indicators {
                let e = (i.code.clone(), ascii_fold(&i.label));
                if !indicators.contains(&e) {
                    indicators.push(e);
                }
            }
        }
        let mut group_codes: Vec<&str> = Vec::new();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut columns: Vec<WordColumn> = Vec::new();
        let mut last_number = (u32::MAX, 0);
        for f in forms {
            for g in &f.groups {
                if !group_codes.contains(&g.code.as_str()) {
                    group_codes.push(&g.code);
                    groups.push(g.words.clone());
                }
            }
            for c in &f.columns {
                let group = group_codes.iter().position(|g| *g == c.group);
                if let Some(group) = group
                    && !columns.iter().any(|k| k.code == c.code)
                {
                    columns.push(WordColumn {
                        code: c.code.clone(),
                        number: u32::from(c.number),
                        group,
                        words: c.words.clone(),
                        total: c.total,
                    });
                }
            }
            let last = f
                .columns
                .iter()
                .map(|c| u32::from(c.number))
                .max()
                .unwrap_or(2);
            last_number = (last_number.0.min(last), last_number.1.max(last));
        }
        FormWords {
            indicators,
            groups,
            columns,
            last_number,
        }
    }

    /// The indicator a folded cell names, by its code or its label.
    pub(super) fn key(&self, folded: &str) -> Option<&str> {
        self.indicators
            .iter()
            .find(|(code, label)| code == folded || label == folded)
            .map(|(code, _)| code.as_str())
    }

    /// The group a folded header text names, if any.
    pub(super) fn group_of(&self, t: &str) -> Option<usize> {
        self.groups
            .iter()
            .position(|words| words.iter().any(|w| t.contains(w.as_str())))
    }

    /// Which column a header is, from its group and its lowest header
    /// words: a column of the group whose words it has, else the group's
    /// total when it says "tổng" or names the group without a deadline.
    /// Returns the column's index in `columns`.
    pub(super) fn classify(&self, group: usize, leaf: &str) -> Option<usize> {
        let of_group = || {
            self.columns
                .iter()
                .enumerate()
                .filter(move |(_, c)| c.group == group)
        };
        if let Some((i, _)) =
            of_group().find(|(_, c)| !c.total && c.words.iter().any(|w| leaf.contains(w.as_str())))
        {
            return Some(i);
        }
        let total = leaf.contains("tong")
            || self.group_of(leaf).is_some_and(|g| g == group) && !leaf.contains("han");
        of_group().find(|(_, c)| c.total && total).map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_words_are_the_forms() {
        let shipped = crate::domain::form_load::builtin();
        let words = FormWords::of(&[shipped]);
        let received = words.group_of("so ho so nhan giai quyet").unwrap();
        assert_eq!(words.classify(received, "truc tuyen"), Some(1));
        assert_eq!(words.classify(received, "tong so"), Some(0));
        let pending = words.group_of("so ho so dang giai quyet").unwrap();
        assert_eq!(words.classify(pending, "qua han"), Some(10));

        // A form that calls the online column otherwise.
        let mut local = shipped.clone();
        local.columns[1].words = vec!["qua mang".into()];
        let words = FormWords::of(&[&local]);
        assert_eq!(words.classify(received, "qua mang"), Some(1));
        assert_eq!(words.classify(received, "truc tuyen"), None);
    }
}
