//! [`Sweep`]: the search of every frame size in turn, as one loop for the engine.
//!
//! It keeps trial ids unique across sizes (a late frame of the last 64-byte trial can never
//! count for the first 128-byte one), shares the duration cap out (each size gets the time left
//! divided by the sizes left, so a size that finishes early leaves its time to the next), and
//! adds the sizes still to come to the ETA.

use std::time::Duration;

use crate::frame::FrameSize;
use crate::report::Report;
use crate::search::{
    fresh_estimate, Progress, Search, SearchConfig, SearchResult, TrialOutcome, TrialSpec,
};
use crate::Error;

/// A trial of the sweep: which frame size, and the trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepTrial {
    /// The frame size to send (for the IMIX, [`FrameSize::frame_len`] gives each frame's).
    pub size: FrameSize,
    /// Its position in the list.
    pub size_index: usize,
    /// The trial.
    pub spec: TrialSpec,
}

/// The searches of a list of frame sizes.
#[derive(Debug, Clone)]
pub struct Sweep {
    cfg: SearchConfig,
    sizes: Vec<FrameSize>,
    current: usize,
    search: Option<Search>,
    done: Vec<SearchResult>,
    next_id: u32,
    spent_s: f64,
}

impl Sweep {
    /// A sweep over `sizes` in order; an empty list or a size listed twice is refused.
    pub fn new(cfg: SearchConfig, sizes: Vec<FrameSize>) -> Result<Sweep, Error> {
        if sizes.is_empty() {
            return Err(Error::NoFrameSizes);
        }
        for (i, s) in sizes.iter().enumerate() {
            if sizes[..i].contains(s) {
                return Err(Error::FrameSize {
                    item: s.to_string(),
                    why: "is listed twice",
                });
            }
        }
        Ok(Sweep {
            cfg,
            sizes,
            current: 0,
            search: None,
            done: Vec::new(),
            next_id: 1,
            spent_s: 0.0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &SearchConfig {
        &self.cfg
    }

    /// The frame sizes, in order.
    pub fn sizes(&self) -> &[FrameSize] {
        &self.sizes
    }

    /// The next trial, or `None` when every size is done. Until its outcome is recorded, the
    /// same trial is returned again.
    pub fn next_trial(&mut self) -> Option<SweepTrial> {
        loop {
            let search = match &mut self.search {
                Some(s) => s,
                None => {
                    let size = *self.sizes.get(self.current)?;
                    let left = (self.sizes.len() - self.current) as f64;
                    let cap = self.cfg.duration_cap().map(|c| {
                        let share = (c.as_secs_f64() - self.spent_s).max(0.0) / left;
                        Duration::try_from_secs_f64(share).unwrap_or(Duration::ZERO)
                    });
                    let cfg = self.cfg.with_duration_cap(cap);
                    self.search
                        .insert(Search::with_first_id(cfg, size, self.next_id))
                }
            };
            if let Some(spec) = search.next_trial() {
                return Some(SweepTrial {
                    size: search.size(),
                    size_index: self.current,
                    spec,
                });
            }
            self.next_id = search.next_id();
            self.spent_s += search.elapsed_s();
            self.done.push(search.result());
            self.search = None;
            self.current += 1;
        }
    }

    /// Records the outcome of trial `id`; the progress's ETA covers the sizes still to come.
    pub fn record(&mut self, id: u32, outcome: TrialOutcome) -> Result<Progress, Error> {
        let Some(search) = &mut self.search else {
            return Err(Error::UnexpectedTrial { id, pending: None });
        };
        let mut progress = search.record(id, outcome)?;
        progress.eta = self.eta();
        Ok(progress)
    }

    /// The time still needed, roughly: the current size's estimate, plus for each size to come
    /// the mean time of the sizes done (or a from-scratch estimate before any is done), within
    /// the duration cap.
    pub fn eta(&self) -> Duration {
        let current = self.search.as_ref().map_or(Duration::ZERO, Search::eta);
        let started = self.current + usize::from(self.search.is_some());
        let to_come = self.sizes.len().saturating_sub(started) as u32;
        let per_size = if self.done.is_empty() {
            fresh_estimate(&self.cfg)
        } else {
            let mean = self.spent_s / self.done.len() as f64;
            Duration::try_from_secs_f64(mean).unwrap_or(Duration::ZERO)
        };
        let total = current.saturating_add(per_size.saturating_mul(to_come));
        match self.cfg.duration_cap() {
            Some(cap) => {
                let spent = self.spent_s + self.search.as_ref().map_or(0.0, Search::elapsed_s);
                total.min(cap.saturating_sub(Duration::try_from_secs_f64(spent).unwrap_or(cap)))
            }
            None => total,
        }
    }

    /// The results so far: the sizes done, then the one in progress (partial).
    pub fn results(&self) -> Vec<SearchResult> {
        let mut all = self.done.clone();
        if let Some(s) = &self.search {
            all.push(s.result());
        }
        all
    }

    /// Whether every size is done.
    pub fn is_finished(&self) -> bool {
        self.current >= self.sizes.len()
    }

    /// The report of the results so far, `line_rate_gbps` being the link's L1 speed if known
    /// (for the theoretical maximum).
    pub fn report(&self, line_rate_gbps: Option<f64>) -> Report {
        Report::new(&self.cfg, &self.results(), line_rate_gbps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(spec: &TrialSpec, capacity: f64) -> TrialOutcome {
        let d = spec.duration.as_secs_f64();
        let sent = (spec.rate_pps.unwrap_or(4.0 * capacity) * d).round() as u64;
        TrialOutcome {
            sent,
            received: sent.min((capacity * d).round() as u64),
            duration_s: d,
            ..Default::default()
        }
    }

    #[test]
    fn ids_never_repeat_and_every_size_is_searched() {
        let cfg = SearchConfig::default();
        let mut sweep =
            Sweep::new(cfg, vec![FrameSize::Fixed(64), FrameSize::Fixed(1518)]).unwrap();
        let mut ids = Vec::new();
        while let Some(t) = sweep.next_trial() {
            assert_eq!(
                sweep.next_trial(),
                Some(t),
                "the pending trial is handed out again"
            );
            let cap = if t.size == FrameSize::Fixed(64) {
                1e6
            } else {
                3e5
            };
            assert!(!ids.contains(&t.spec.id) && t.spec.id != 0);
            ids.push(t.spec.id);
            let p = sweep.record(t.spec.id, clean(&t.spec, cap)).unwrap();
            assert_eq!(p.size, t.size);
        }
        assert!(sweep.is_finished() && sweep.next_trial().is_none());
        let results = sweep.results();
        assert_eq!(results.len(), 2);
        assert!(results.iter().all(|r| r.complete));
        let r = sweep.report(Some(10.0));
        assert_eq!(r.results.len(), 2);
        assert_eq!(
            sweep.record(999, TrialOutcome::default()),
            Err(Error::UnexpectedTrial {
                id: 999,
                pending: None
            })
        );
    }

    #[test]
    fn the_cap_is_shared_out_and_sizes_without_time_are_reported() {
        let cfg = SearchConfig::builder()
            .duration_cap(Some(Duration::from_secs(90)))
            .build()
            .unwrap();
        let sizes = vec![FrameSize::Fixed(64), FrameSize::Fixed(512), FrameSize::Imix];
        let mut sweep = Sweep::new(cfg, sizes).unwrap();
        let mut wall = 0.0;
        while let Some(t) = sweep.next_trial() {
            let o = clean(&t.spec, 1e6);
            wall += sweep.record(t.spec.id, o).unwrap().trial.wall_s;
        }
        assert!(wall <= 90.0, "{wall}");
        let results = sweep.results();
        assert_eq!(results.len(), 3);
        // 30 s each is too little for a 60 s verification: the first two sizes end with
        // unverified bounds, and leave their unused time to the last, which completes.
        for r in &results[..2] {
            assert!(!r.complete && r.ndr.is_some_and(|n| !n.verified));
            assert!(r.notes.iter().any(|n| n.contains("duration cap")));
        }
        assert!(results[2].complete);
        assert!(sweep.eta() == Duration::ZERO);
    }

    #[test]
    fn bad_lists_are_refused() {
        let cfg = SearchConfig::default();
        assert_eq!(
            Sweep::new(cfg.clone(), vec![]).unwrap_err(),
            Error::NoFrameSizes
        );
        let e = Sweep::new(cfg, vec![FrameSize::Imix, FrameSize::Imix]).unwrap_err();
        assert!(e.to_string().contains("listed twice"));
    }
}
