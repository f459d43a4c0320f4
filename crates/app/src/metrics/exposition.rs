//! The Prometheus text exposition format (version 0.0.4), written by hand: counters and histograms kept
//! per process behind one lock each, and a writer for those and for gauges read at scrape time.
//!
//! Label values are escaped as the format asks (`\\`, `\"`, `\n`); what goes into them is decided by
//! the callers in `metrics.rs`, which only ever pass names the code itself defines (verdicts, reasons,
//! route templates), never input.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// A counter family: one count per combination of label values.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    values: Mutex<BTreeMap<Vec<String>, u64>>,
}

impl Counters {
    /// Adds `by` to the series with `labels` (in the family's label order).
    pub(crate) fn add(&self, labels: &[&str], by: u64) {
        let key = labels.iter().map(|l| (*l).to_owned()).collect();
        let mut values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *values.entry(key).or_insert(0) += by;
    }

    /// Every series, in label order.
    pub(crate) fn series(&self) -> Vec<(Vec<String>, u64)> {
        let values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        values.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// One histogram series: a count per bucket (not cumulative; the writer adds them up), the sum and the
/// count of observations.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A histogram family over fixed upper bounds.
#[derive(Debug)]
pub(crate) struct Histograms {
    bounds: &'static [f64],
    values: Mutex<BTreeMap<Vec<String>, Histogram>>,
}

impl Histograms {
    /// A family with buckets up to each of `bounds` (ascending), and `+Inf`.
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self { bounds, values: Mutex::default() }
    }

    /// Records `value` in the series with `labels`.
    pub(crate) fn observe(&self, labels: &[&str], value: f64) {
        let bucket = self.bounds.iter().position(|b| value <= *b).unwrap_or(self.bounds.len());
        let key = labels.iter().map(|l| (*l).to_owned()).collect();
        let mut values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let h = values.entry(key).or_insert_with(|| Histogram {
            buckets: vec![0; self.bounds.len() + 1],
            sum: 0.0,
            count: 0,
        });
        if let Some(n) = h.buckets.get_mut(bucket) {
            *n += 1;
        }
        h.sum += value;
        h.count += 1;
    }

    fn series(&self) -> Vec<(Vec<String>, Histogram)> {
        let values = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// The text of one scrape, family by family.
#[derive(Debug, Default)]
pub(crate) struct Text(String);

impl Text {
    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub(crate) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    /// One sample of the family just started.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{label}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A counter family with its series.
    pub(crate) fn counters(&mut self, name: &str, help: &str, label_names: &[&str], family: &Counters) {
        self.family(name, "counter", help);
        for (values, n) in family.series() {
            let labels: Vec<(&str, &str)> =
                label_names.iter().copied().zip(values.iter().map(String::as_str)).collect();
            self.sample(name, &labels, n);
        }
    }

    /// A counter family of one series without labels.
    pub(crate) fn counter(&mut self, name: &str, help: &str, family: &Counters) {
        self.family(name, "counter", help);
        let n: u64 = family.series().iter().map(|(_, n)| n).sum();
        self.sample(name, &[], n);
    }

    /// A histogram family with its series (`_bucket` cumulative with `le`, `_sum`, `_count`).
    pub(crate) fn histograms(&mut self, name: &str, help: &str, label_names: &[&str], family: &Histograms) {
        self.family(name, "histogram", help);
        let (bucket, sum, count) = (format!("{name}_bucket"), format!("{name}_sum"), format!("{name}_count"));
        for (values, h) in family.series() {
            let labels: Vec<(&str, &str)> =
                label_names.iter().copied().zip(values.iter().map(String::as_str)).collect();
            let mut cumulative = 0;
            for (i, n) in h.buckets.iter().enumerate() {
                cumulative += n;
                let le = family.bounds.get(i).map_or_else(|| "+Inf".to_owned(), f64::to_string);
                let mut with_le = labels.clone();
                with_le.push(("le", &le));
                self.sample(&bucket, &with_le, cumulative);
            }
            self.sample(&sum, &labels, h.sum);
            self.sample(&count, &labels, h.count);
        }
    }

    /// The finished text.
    pub(crate) fn finish(self) -> String {
        self.0
    }
}

/// A label value as the format writes it.
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return value.into();
    }
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_counts_each_combination_of_labels_apart() {
        let c = Counters::default();
        c.add(&["a", "1"], 1);
        c.add(&["a", "1"], 2);
        c.add(&["b", "1"], 1);
        assert_eq!(c.series(), vec![(vec!["a".to_owned(), "1".to_owned()], 3), (vec!["b".into(), "1".into()], 1)]);
    }

    #[test]
    fn a_histogram_writes_cumulative_buckets_the_sum_and_the_count() {
        static BOUNDS: [f64; 2] = [0.1, 1.0];
        let h = Histograms::new(&BOUNDS);
        h.observe(&["GET"], 0.05);
        h.observe(&["GET"], 0.5);
        h.observe(&["GET"], 5.0);
        let mut text = Text::default();
        text.histograms("t_seconds", "Time.", &["method"], &h);
        assert_eq!(
            text.finish(),
            "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n\
             t_seconds_bucket{method=\"GET\",le=\"0.1\"} 1\nt_seconds_bucket{method=\"GET\",le=\"1\"} 2\n\
             t_seconds_bucket{method=\"GET\",le=\"+Inf\"} 3\nt_seconds_sum{method=\"GET\"} 5.55\n\
             t_seconds_count{method=\"GET\"} 3\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut text = Text::default();
        text.sample("x", &[("l", "a\"b\\c\nd")], 1);
        assert_eq!(text.finish(), "x{l=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
