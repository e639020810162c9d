//! The result of a run: one row per comparison, best of the runs, as a text table (printed),
//! Markdown (for the README) and JSON (everything, to regenerate either).

use std::fmt::Write as _;

use serde::Serialize;

use crate::machine::Machine;
use crate::measure::Sample;

/// One comparison: ours against its reference.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub benchmark: String,
    /// The reference set-up's label, e.g. `testpmd -> testpmd`, `C l3fwd`.
    pub reference: String,
    pub reference_mpps: f64,
    pub ours_mpps: f64,
    /// ours / reference.
    pub ratio: f64,
    /// Measurements of each side.
    pub runs: usize,
    /// The medians: what a typical run gives, where the best shows what the code can do.
    pub reference_median_mpps: f64,
    pub ours_median_mpps: f64,
    pub reference_samples: Vec<Sample>,
    pub ours_samples: Vec<Sample>,
}

impl Row {
    /// The row of `ours` against `reference`, each the best of its samples.
    pub fn new(
        benchmark: &str,
        reference: &str,
        reference_samples: &[Sample],
        ours_samples: &[Sample],
    ) -> Self {
        let best = |s: &[Sample]| s.iter().map(|s| s.mpps).fold(0.0, f64::max);
        let (r, o) = (best(reference_samples), best(ours_samples));
        Row {
            benchmark: benchmark.to_owned(),
            reference: reference.to_owned(),
            reference_mpps: r,
            ours_mpps: o,
            ratio: if r > 0.0 { o / r } else { f64::NAN },
            runs: reference_samples.len().min(ours_samples.len()),
            reference_median_mpps: median(reference_samples),
            ours_median_mpps: median(ours_samples),
            reference_samples: reference_samples.to_vec(),
            ours_samples: ours_samples.to_vec(),
        }
    }

    /// Whether the best sample of either side was [contended](Sample::contended): then even
    /// the best number understates that side.
    pub fn best_contended(&self) -> bool {
        let best = |s: &[Sample]| {
            s.iter()
                .max_by(|a, b| a.mpps.total_cmp(&b.mpps))
                .is_some_and(Sample::contended)
        };
        best(&self.reference_samples) || best(&self.ours_samples)
    }

    fn contended(&self) -> usize {
        self.reference_samples
            .iter()
            .chain(&self.ours_samples)
            .filter(|s| s.contended())
            .count()
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub quick: bool,
    pub warmup_s: f64,
    pub window_s: f64,
    /// 1-minute load average before the first and after the last measurement.
    pub load_before: f64,
    pub load_after: f64,
    pub duration_s: f64,
    pub rows: Vec<Row>,
}

impl Report {
    /// The text table, with the machine and method below it.
    pub fn table(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.benchmark.len())
            .max()
            .unwrap_or(0)
            .max("benchmark".len());
        let mut out = format!(
            "{:<width$}  {:>14}  {:>9}  {:>6}  {:>4}\n",
            "benchmark", "reference Mpps", "ours Mpps", "ratio", "runs"
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:<width$}  {:>14.2}  {:>9.2}  {:>6.2}  {:>4}{}",
                r.benchmark,
                r.reference_mpps,
                r.ours_mpps,
                r.ratio,
                r.runs,
                mark(r)
            );
        }
        out + &self.notes().join("\n") + "\n"
    }

    /// The table in Markdown, with the same notes.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| benchmark | reference | reference Mpps | ours Mpps | ratio | runs |\n\
             |---|---|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.2} | {:.2}{} | {} |",
                r.benchmark,
                r.reference,
                r.reference_mpps,
                r.ours_mpps,
                r.ratio,
                mark(r),
                r.runs
            );
        }
        out.push('\n');
        for note in self.notes() {
            let _ = writeln!(out, "{note}  ");
        }
        out
    }

    fn notes(&self) -> Vec<String> {
        let samples: usize = self
            .rows
            .iter()
            .map(|r| r.reference_samples.len() + r.ours_samples.len())
            .sum();
        let contended: usize = self.rows.iter().map(Row::contended).sum();
        let mut notes = vec![
            format!("machine: {}", self.machine),
            format!(
                "best of alternated runs, {:.1} s warm-up, {:.1} s window{}; load average {:.2} before, {:.2} after; {:.0} s in all",
                self.warmup_s,
                self.window_s,
                if self.quick { " (quick mode)" } else { "" },
                self.load_before,
                self.load_after,
                self.duration_s
            ),
            format!(
                "measurements in which a process had under 90% of its CPU: {contended} of {samples} (shared reference samples counted per row)"
            ),
        ];
        if self.rows.iter().any(Row::best_contended) {
            notes.push(
                "*: the best run of a side was among those: the machine was busy, the ratio is unreliable".into(),
            );
        }
        notes
    }
}

fn median(samples: &[Sample]) -> f64 {
    let mut v: Vec<f64> = samples.iter().map(|s| s.mpps).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `*` after a row whose best runs were contended.
fn mark(row: &Row) -> &'static str {
    if row.best_contended() {
        "*"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(mpps: f64) -> Sample {
        Sample {
            mpps,
            cpu: vec![1.0, 0.5],
        }
    }

    #[test]
    fn best_of_runs_and_ratio() {
        let r = Row::new(
            "l2fwd",
            "C l2fwd",
            &[sample(10.0), sample(12.0)],
            &[sample(15.0), sample(9.0)],
        );
        assert_eq!((r.reference_mpps, r.ours_mpps, r.runs), (12.0, 15.0, 2));
        assert_eq!((r.reference_median_mpps, r.ours_median_mpps), (11.0, 12.0));
        assert!((r.ratio - 1.25).abs() < 1e-9);
        assert_eq!(r.contended(), 4);
        assert!(r.best_contended());
        let calm = Sample {
            mpps: 20.0,
            cpu: vec![1.0],
        };
        let r = Row::new(
            "l2fwd",
            "C l2fwd",
            std::slice::from_ref(&calm),
            std::slice::from_ref(&calm),
        );
        assert!(!r.best_contended());
    }

    #[test]
    fn table_markdown_and_json_agree() {
        let report = Report {
            machine: Machine {
                cpu: "Test CPU".into(),
                cores: 2,
                kernel: "6.1".into(),
                dpdk: "22.11.11".into(),
                os: "Debian GNU/Linux 12 (bookworm)".into(),
                memory: "--no-huge (4 KiB pages)".into(),
            },
            quick: false,
            warmup_s: 1.0,
            window_s: 2.0,
            load_before: 0.1,
            load_after: 0.2,
            duration_s: 100.0,
            rows: vec![Row::new(
                "l3fwd-em",
                "C l3fwd",
                &[sample(10.0)],
                &[sample(11.0)],
            )],
        };
        let table = report.table();
        assert!(table.contains("l3fwd-em"), "{table}");
        assert!(table.contains("10.00") && table.contains("11.00") && table.contains("1.10"));
        assert!(table.contains(
            "Test CPU, 2 cores, Linux 6.1, DPDK 22.11.11 (Debian GNU/Linux 12 (bookworm))"
        ));
        let md = report.markdown();
        assert!(
            md.contains("| l3fwd-em | C l3fwd | 10.00 | 11.00 | 1.10* | 1 |"),
            "{md}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["ours_mpps"], 11.0);
        assert_eq!(json["machine"]["cores"], 2);
        assert_eq!(json["machine"]["dpdk"], "22.11.11");
    }
}
