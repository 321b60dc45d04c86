//! The words intake finds a workbook's tables by, from the forms in force:
//! Form 06's column groups and columns, and the indicators' codes and
//! labels.

use crate::domain::ascii_fold;

/// The words intake finds a form's tables by: Form 06's column groups and
/// columns (of the first form; the forms in force share Form 06), and the
/// indicators of every form, by code and by folded label.
pub struct FormWords {
    indicators: Vec<(String, String)>,
    /// Each group's folded words, in the order they are tried.
    pub(super) groups: Vec<Vec<String>>,
    /// Form 06's columns: (index among the form's columns, group index,
    /// words, whether it is the group's total), in the form's order.
    pub(super) columns: Vec<(usize, usize, Vec<String>, bool)>,
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
        let (mut groups, mut columns) = (Vec::new(), Vec::new());
        if let Some(f) = forms.first() {
            groups = f.groups.iter().map(|g| g.words.clone()).collect();
            for (i, c) in f.columns.iter().enumerate() {
                if let Some(g) = f.groups.iter().position(|g| g.code == c.group) {
                    columns.push((i, g, c.words.clone(), c.total));
                }
            }
        }
        FormWords {
            indicators,
            groups,
            columns,
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
    pub(super) fn classify(&self, group: usize, leaf: &str) -> Option<usize> {
        let of_group = || self.columns.iter().filter(move |c| c.1 == group);
        if let Some(c) = of_group().find(|c| !c.3 && c.2.iter().any(|w| leaf.contains(w.as_str())))
        {
            return Some(c.0);
        }
        let total = leaf.contains("tong")
            || self.group_of(leaf).is_some_and(|g| g == group) && !leaf.contains("han");
        of_group().find(|c| c.3 && total).map(|c| c.0)
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
