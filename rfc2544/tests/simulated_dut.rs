//! The search end to end against a simulated DUT with a known capacity, optional noise
//! (capacity jitter, random small losses) and an optional fixed drop fraction, and a
//! simulated generator (unpaced rate, optional ceiling when paced). Property tests check the
//! search's promises; `comparison_with_plain_binary_search` measures what docs/rfc2544.md
//! quotes (`cargo test -p rfc2544 --test simulated_dut -- --nocapture comparison`).

use std::time::Duration;

use proptest::prelude::*;
use rfc2544::frame::FrameSize;
use rfc2544::search::{
    Goal, GoalStatus, LatencySummary, Search, SearchConfig, SearchResult, TrialKind, TrialOutcome,
    TrialSpec, Verdict,
};

/// SplitMix64: a small deterministic generator, so every failure replays.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The generator and the device under test.
#[derive(Debug, Clone)]
struct Dut {
    /// Frames/s it forwards at most; the excess share of the offered frames is dropped.
    capacity: f64,
    /// Each trial's capacity is `capacity × (1 ± jitter)`, uniform.
    jitter: f64,
    /// Losses start at `knee × capacity` and grow linearly to `knee_loss` at the capacity
    /// (1.0: a sharp edge). Such a DUT forwards about `capacity` when overloaded, well above
    /// its NDR, so the first guess is off.
    knee: f64,
    knee_loss: f64,
    /// Chance per trial of a random loss of 1..=`noise_frames` frames at any rate.
    noise_prob: f64,
    noise_frames: u64,
    /// Share of the forwarded frames dropped at every rate (rounded up: any share loses a
    /// frame).
    drop_fraction: f64,
    /// What the generator sends unpaced.
    gen_unpaced: f64,
    /// The most it sends paced.
    gen_paced_max: f64,
    rng: Rng,
}

impl Dut {
    fn clean(capacity: f64, gen: f64) -> Dut {
        Dut {
            capacity,
            jitter: 0.0,
            knee: 1.0,
            knee_loss: 0.0,
            noise_prob: 0.0,
            noise_frames: 0,
            drop_fraction: 0.0,
            gen_unpaced: gen,
            gen_paced_max: f64::INFINITY,
            rng: Rng(1),
        }
    }

    /// The share of frames lost at `offered` frames/s with capacity `cap`: the knee's ramp,
    /// then everything above the capacity.
    fn loss_ratio(&self, offered: f64, cap: f64) -> f64 {
        let start = self.knee * cap;
        if offered <= start {
            return 0.0;
        }
        let ramp = if self.knee < 1.0 {
            self.knee_loss * ((offered.min(cap) - start) / (cap - start))
        } else {
            0.0
        };
        1.0 - (1.0 - ramp) * (cap / offered).min(1.0)
    }

    fn run(&mut self, spec: &TrialSpec) -> TrialOutcome {
        let d = spec.duration.as_secs_f64();
        let offered = spec
            .rate_pps
            .map_or(self.gen_unpaced, |r| r.min(self.gen_paced_max));
        let sent = (offered * d).round() as u64;
        let cap = self.capacity * (1.0 + self.jitter * (2.0 * self.rng.unit() - 1.0));
        // Loss depends on the rate alone (not on how frame counts round at a given duration):
        // none up to the knee, at least a frame above it.
        let ratio = self.loss_ratio(offered, cap);
        let mut lost = if ratio > 0.0 {
            (sent as f64 * ratio).ceil() as u64
        } else {
            0
        };
        if self.drop_fraction > 0.0 {
            lost += ((sent - lost) as f64 * self.drop_fraction).ceil() as u64;
        }
        if self.noise_frames > 0 && self.rng.unit() < self.noise_prob {
            lost += 1 + self.rng.next_u64() % self.noise_frames;
        }
        let lost = lost.min(sent);
        let load = (offered / cap).min(1.0);
        let latency = LatencySummary {
            min: 800,
            p50: 2_000 + (3_000.0 * load) as u64,
            p99: 5_000 + (40_000.0 * load * load) as u64,
            p999: 9_000 + (80_000.0 * load * load) as u64,
            max: 20_000 + (200_000.0 * load) as u64,
        };
        let (mut sent, mut lost, mut dur, mut early) = (sent, lost, d, false);
        if let Some(k) = spec.abort_after_lost.filter(|&k| k > 0 && lost >= k) {
            // Loss accrues evenly over the trial: the engine sees the k-th loss this early.
            let frac = k as f64 / lost as f64;
            sent = ((sent as f64 * frac).round() as u64).max(k);
            dur = sent as f64 / offered;
            lost = k;
            early = true;
        }
        let wall = spec.learning.settle.as_secs_f64()
            + dur
            + if lost > 0 {
                spec.flush.quiet.as_secs_f64()
            } else {
                0.001
            };
        TrialOutcome {
            sent,
            received: sent - lost,
            duration_s: dur,
            wall_s: Some(wall),
            latency: Some(latency),
            stopped_early: early,
        }
    }
}

/// Runs a whole search; panics on a runaway.
fn search(cfg: SearchConfig, dut: &mut Dut) -> SearchResult {
    let mut s = Search::new(cfg, FrameSize::Fixed(64));
    let mut n = 0;
    while let Some(spec) = s.next_trial() {
        let o = dut.run(&spec);
        s.record(spec.id, o).unwrap();
        n += 1;
        assert!(n <= 1000, "runaway");
    }
    s.result()
}

/// Checks that hold for every DUT: ordering, verification trials, limits.
fn invariants(r: &SearchResult, cfg: &SearchConfig) {
    assert!(r.trials.len() <= cfg.max_trials() as usize);
    let max = r.max_rate_pps.unwrap_or(0.0);
    if let (Some(n), Some(p)) = (&r.ndr, &r.pdr) {
        assert!(
            n.rate_pps <= p.rate_pps,
            "NDR {} > PDR {}",
            n.rate_pps,
            p.rate_pps
        );
    }
    if let Some(p) = &r.pdr {
        assert!(p.rate_pps <= max, "PDR {} > max {max}", p.rate_pps);
    }
    if let Some(n) = r.ndr.as_ref().filter(|n| n.verified) {
        let t = r.trials.iter().find(|t| t.spec.id == n.trial_id).unwrap();
        assert_eq!(t.lost, 0, "the NDR's verification trial lost frames");
        assert!(t.spec.duration >= cfg.final_duration());
        assert_eq!(t.ndr, Verdict::Pass);
    }
    if let Some(p) = r.pdr.as_ref().filter(|p| p.verified) {
        let t = r.trials.iter().find(|t| t.spec.id == p.trial_id).unwrap();
        assert!(t.loss_ratio <= cfg.pdr_loss());
        assert!(t.spec.duration >= cfg.final_duration());
    }
    // Statuses agree with the results.
    for (goal, res) in [(Goal::Ndr, &r.ndr), (Goal::Pdr, &r.pdr)] {
        match r.status[goal as usize] {
            GoalStatus::Verified => assert!(res.is_some_and(|g| g.verified), "{goal:?}"),
            GoalStatus::NoResult => assert!(res.is_none(), "{goal:?}"),
            GoalStatus::Unfinished => assert!(res.is_none_or(|g| !g.verified), "{goal:?}"),
            GoalStatus::Searching => panic!("{goal:?} still searching after the search ended"),
        }
    }
    let mut ids: Vec<u32> = r.trials.iter().map(|t| t.spec.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), r.trials.len(), "trial ids repeat");
}

fn config(res: f64, pdr: f64, trial_s: f64, final_s: f64, max: Option<f64>) -> SearchConfig {
    SearchConfig::builder()
        .resolution(res)
        .pdr_loss(pdr)
        .trial_duration(Duration::from_secs_f64(trial_s))
        .final_duration(Duration::from_secs_f64(final_s))
        .max_rate(max)
        .build()
        .unwrap()
}

/// Rounding slack of the simulation: frame counts are whole numbers, so a rate is only
/// resolved to about a frame per (shortest) trial.
fn slack(cfg: &SearchConfig) -> f64 {
    2.0 / cfg.coarse_duration().as_secs_f64()
}

proptest! {
    // 300 cases by default (under a second); PROPTEST_CASES=20000 for a long soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    /// Clean DUT: both goals within the resolution of the truth, verified, few trials, short
    /// trials early, and every trial above the NDR lost frames unless the NDR is the maximum.
    #[test]
    fn clean_dut_is_found_within_resolution(
        cap_share in 0.005f64..1.3,
        gen in 1e5f64..3e7,
        res in 0.002f64..0.05,
        pdr in 0.0f64..0.01,
        trial_s in 0.5f64..20.0,
        final_s in 1.0f64..90.0,
        paced_max in proptest::option::of(0.3f64..1.0),
    ) {
        let max = paced_max.map(|m| m * gen);
        let cfg = config(res, pdr, trial_s, final_s, max);
        let top = max.unwrap_or(gen);
        // At least twice the minimum rate searched (1000 frames/s), else there is no result.
        let capacity = (cap_share * gen).max(2.0 * cfg.min_rate());
        let r = search(cfg.clone(), &mut Dut::clean(capacity, gen));
        invariants(&r, &cfg);
        prop_assert!(r.complete, "{:#?}", r.notes);
        let (ndr, pdr_r) = (r.ndr.unwrap(), r.pdr.unwrap());
        prop_assert!(ndr.verified && pdr_r.verified);
        let e = slack(&cfg);
        let true_ndr = capacity.min(top);
        let true_pdr = (capacity / (1.0 - pdr)).min(top);
        prop_assert!(ndr.rate_pps <= true_ndr + e && ndr.rate_pps >= true_ndr / (1.0 + res) - e,
            "NDR {} vs {true_ndr}", ndr.rate_pps);
        prop_assert!(pdr_r.rate_pps <= true_pdr + e && pdr_r.rate_pps >= true_pdr / (1.0 + res) - e,
            "PDR {} vs {true_pdr}", pdr_r.rate_pps);
        let bound = cfg.clean_trial_bound(top) as usize;
        prop_assert!(r.trials.len() <= bound, "{} trials > bound {bound}", r.trials.len());
        // Every trial above the NDR lost frames, unless the NDR is the maximum. Exempt: a trial
        // superseded by a longer one at its rate (that one counts), and one at the NDR's
        // failing upper bound to within a frame per trial (the rate where losses start, which
        // rounding of whole frames can land on either side of).
        if ndr.rate_pps < top * (1.0 - 1e-9) - e {
            let edge = ndr.upper_pps.unwrap_or(f64::INFINITY) - e;
            for t in r.trials.iter().filter(|t| !t.superseded_for(Goal::Ndr)) {
                if t.achieved_pps > ndr.rate_pps + e && t.achieved_pps < edge {
                    prop_assert!(t.lost > 0, "trial at {} above NDR {} lost nothing", t.achieved_pps, ndr.rate_pps);
                }
            }
        }
        // Phases: a search trial of the full duration is within 2 resolutions of a result.
        for t in r.trials.iter().filter(|t| t.spec.kind == TrialKind::Search
            && t.spec.duration >= cfg.trial_duration() && t.spec.duration > cfg.coarse_duration())
        {
            let near = |x: f64| (t.achieved_pps / x - 1.0).abs() <= 2.0 * res + 1e-6 + e / x;
            prop_assert!(near(ndr.rate_pps) || near(pdr_r.rate_pps),
                "full-length trial at {} far from NDR {} and PDR {}", t.achieved_pps, ndr.rate_pps, pdr_r.rate_pps);
        }
    }

    /// A DUT whose losses start well below its forwarding rate under overload (the first
    /// guess is 1-50 % too high): the NDR is still within the resolution, and both goals
    /// verified, within the clean bound.
    #[test]
    fn knee_dut_is_found_within_resolution(
        cap_share in 0.05f64..0.95,
        knee in 0.5f64..0.99,
        knee_loss in 0.0001f64..0.05,
        res in 0.002f64..0.05,
        pdr in 0.0f64..0.01,
        trial_s in 0.5f64..20.0,
    ) {
        let gen = 1e7;
        let cfg = config(res, pdr, trial_s, 30.0, None);
        let dut = Dut { knee, knee_loss, ..Dut::clean(cap_share * gen, gen) };
        let r = search(cfg.clone(), &mut dut.clone());
        invariants(&r, &cfg);
        prop_assert!(r.complete, "{:#?}", r.notes);
        let ndr = r.ndr.unwrap();
        let e = slack(&cfg);
        let true_ndr = knee * cap_share * gen;
        prop_assert!(ndr.verified && ndr.rate_pps <= true_ndr + e && ndr.rate_pps >= true_ndr / (1.0 + res) - e,
            "NDR {} vs {true_ndr}", ndr.rate_pps);
        let p = r.pdr.unwrap();
        prop_assert!(p.verified && dut.loss_ratio(p.rate_pps, dut.capacity) <= pdr + 1e-9);
        prop_assert!(r.trials.len() <= cfg.clean_trial_bound(gen) as usize);
    }

    /// A DUT dropping a fixed fraction f of the frames at every rate: no NDR; PDR at the
    /// maximum when f <= pdr_loss, none when f > pdr_loss.
    #[test]
    fn a_fixed_drop_fraction_gives_pdr_max_or_nothing(
        gen in 1e6f64..3e7,
        pdr in 0.0005f64..0.02,
        share in prop_oneof![0.0001f64..0.9, 1.1f64..50.0],
        res in 0.002f64..0.05,
    ) {
        let cfg = config(res, pdr, 2.0, 10.0, None);
        let f = (share * pdr).min(0.9);
        let mut dut = Dut { drop_fraction: f, ..Dut::clean(f64::INFINITY, gen) };
        let r = search(cfg.clone(), &mut dut);
        invariants(&r, &cfg);
        prop_assert!(r.complete);
        prop_assert!(r.ndr.is_none());
        prop_assert_eq!(r.status[0], GoalStatus::NoResult);
        if share < 1.0 {
            let p = r.pdr.unwrap();
            prop_assert!(p.verified && p.rate_pps >= gen / (1.0 + res), "PDR {} vs max {gen}", p.rate_pps);
        } else {
            prop_assert!(r.pdr.is_none(), "{:?}", r.pdr);
            prop_assert_eq!(r.status[1], GoalStatus::NoResult);
        }
    }

    /// A noisy DUT (capacity jitter, random small losses, a paced generator ceiling): the
    /// invariants hold, the results are never above what the DUT can do, and the search ends.
    #[test]
    fn noisy_dut_keeps_the_invariants(
        cap_share in 0.05f64..1.2,
        jitter in 0.0f64..0.1,
        noise_prob in 0.0f64..0.5,
        noise_frames in 1u64..20,
        paced_ceiling in 0.5f64..1.5,
        seed in any::<u64>(),
        res in 0.005f64..0.05,
    ) {
        let gen = 1e7;
        let cfg = config(res, 0.001, 2.0, 10.0, None);
        let mut dut = Dut {
            jitter,
            noise_prob,
            noise_frames,
            gen_paced_max: paced_ceiling * gen,
            rng: Rng(seed),
            ..Dut::clean(cap_share * gen, gen)
        };
        let r = search(cfg.clone(), &mut dut);
        invariants(&r, &cfg);
        let best = cap_share * gen * (1.0 + jitter);
        if let Some(n) = &r.ndr {
            prop_assert!(n.rate_pps <= best + slack(&cfg), "NDR {} above the best capacity {best}", n.rate_pps);
        }
        if let Some(p) = r.pdr.as_ref().filter(|p| p.verified) {
            prop_assert!(p.rate_pps <= best / (1.0 - 0.001) + slack(&cfg), "PDR {} above {best}", p.rate_pps);
        }
        if r.notes.iter().any(|n| n.starts_with("verification of") && n.contains("upper bound lowered")) {
            prop_assert!(r.trials.iter().any(|t| t.spec.is_final() && (t.ndr == Verdict::Fail || t.pdr == Verdict::Fail)));
        }
    }

    /// Whatever the engine reports (nonsense included), the search ends within the trial
    /// limit without panicking.
    #[test]
    fn any_outcomes_terminate(
        outcomes in proptest::collection::vec(
            (0u64..2_000_000, 0.0f64..1.3, prop_oneof![
                Just(f64::NAN), Just(0.0), Just(-1.0), Just(f64::INFINITY), 0.001f64..30.0
            ], any::<bool>()),
            1..80),
        max_trials in 3u32..70,
    ) {
        let cfg = SearchConfig::builder().max_trials(max_trials).build().unwrap();
        let mut s = Search::new(cfg.clone(), FrameSize::Imix);
        let mut i = 0;
        while let Some(spec) = s.next_trial() {
            let (sent, share, d, early) = outcomes[i % outcomes.len()];
            let o = TrialOutcome {
                sent,
                received: (sent as f64 * share) as u64,
                duration_s: d,
                wall_s: None,
                latency: None,
                stopped_early: early,
            };
            s.record(spec.id, o).unwrap();
            i += 1;
            prop_assert!(i <= max_trials as usize);
        }
        let r = s.result();
        invariants(&r, &cfg);
    }
}

/// A plain RFC 2544 binary search for one goal, as tools without multi-goal search do it: a
/// trial at the maximum, then halving [0, max] until the interval is within `res` of the
/// lower bound, every trial `trial_s` long plus `pause_s` (RFC 2544 §23's wait).
/// Returns (trials, trial seconds, wall seconds, result).
fn plain_binary(
    dut: &mut Dut,
    max: f64,
    res: f64,
    pass: impl Fn(&TrialOutcome) -> bool,
    trial_s: f64,
    pause_s: f64,
) -> (usize, f64, f64, f64) {
    let run = |dut: &mut Dut, rate: f64| {
        let spec = TrialSpec {
            id: 1,
            rate_pps: Some(rate),
            duration: Duration::from_secs_f64(trial_s),
            kind: TrialKind::Search,
            abort_after_lost: None,
            learning: SearchConfig::default().learning(),
            flush: SearchConfig::default().flush(),
        };
        dut.run(&spec)
    };
    let mut n = 1;
    if pass(&run(dut, max)) {
        return (n, trial_s, trial_s + pause_s, max);
    }
    let (mut lo, mut hi) = (0.0, max);
    while lo <= 0.0 || hi - lo > res * lo {
        let mid = (lo + hi) / 2.0;
        n += 1;
        if pass(&run(dut, mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
        if n > 60 {
            break;
        }
    }
    (n, n as f64 * trial_s, n as f64 * (trial_s + pause_s), lo)
}

#[derive(Debug, Default)]
struct Stats {
    trials: Vec<f64>,
    trial_s: Vec<f64>,
    wall_s: Vec<f64>,
}

impl Stats {
    fn add(&mut self, trials: usize, trial_s: f64, wall_s: f64) {
        self.trials.push(trials as f64);
        self.trial_s.push(trial_s);
        self.wall_s.push(wall_s);
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn max(v: &[f64]) -> f64 {
        v.iter().copied().fold(0.0, f64::max)
    }

    fn min(v: &[f64]) -> f64 {
        v.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// `mean (min-max)` of trials, trial time and wall time.
    fn row(&self, name: &str) -> String {
        let f = |v: &[f64], unit: &str| {
            format!(
                "{:.1}{unit} ({:.0}-{:.0}{unit})",
                Self::mean(v),
                Self::min(v),
                Self::max(v)
            )
        };
        format!(
            "| {name} | {} | {} | {} |",
            f(&self.trials, ""),
            f(&self.trial_s, " s"),
            f(&self.wall_s, " s")
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Losses start at the capacity: the forwarding rate at overload is the answer.
    Sharp,
    /// Losses start at 60-95 % of the forwarding rate at overload, 0.5 % at it.
    Knee,
    /// Sharp, with capacity ±2 % per trial and 5 % of trials losing 1-5 frames anywhere.
    Noisy,
}

/// Ours against a plain binary search with 60 s trials at the same resolution, over DUTs whose
/// capacity spreads log-uniformly over 2 %..98 % of the generator's rate (14.88 Mpps). The
/// numbers printed are the ones in docs/rfc2544.md.
#[test]
fn comparison_with_plain_binary_search() {
    let gen = 14.88e6;
    let caps: Vec<f64> = (0..200)
        .map(|i| gen * 0.02 * (0.98f64 / 0.02).powf(i as f64 / 199.0))
        .collect();
    let mut out = String::new();
    for (kind, res, trial_s) in [
        (Kind::Sharp, 0.01, 10.0),
        (Kind::Knee, 0.01, 10.0),
        (Kind::Knee, 0.01, 2.0),
        (Kind::Knee, 0.001, 10.0),
        (Kind::Noisy, 0.01, 10.0),
    ] {
        let cfg = config(res, 0.001, trial_s, 60.0, None);
        let (mut ours, mut plain_ndr, mut plain_both) =
            (Stats::default(), Stats::default(), Stats::default());
        for (i, &c) in caps.iter().enumerate() {
            let noisy = kind == Kind::Noisy;
            let dut = || Dut {
                jitter: if noisy { 0.02 } else { 0.0 },
                noise_prob: if noisy { 0.05 } else { 0.0 },
                noise_frames: 5,
                knee: if kind == Kind::Knee {
                    0.6 + 0.35 * ((i * 37) % 200) as f64 / 199.0
                } else {
                    1.0
                },
                knee_loss: 0.005,
                rng: Rng(i as u64),
                ..Dut::clean(c, gen)
            };
            let r = search(cfg.clone(), &mut dut());
            if !noisy {
                assert!(r.complete);
            }
            let trial_time: f64 = r.trials.iter().map(|t| t.outcome.duration_s).sum();
            ours.add(r.trials.len(), trial_time, r.search_time_s);
            let ndr_pass = |o: &TrialOutcome| o.received == o.sent;
            let pdr_pass = |o: &TrialOutcome| (o.sent - o.received) as f64 <= 0.001 * o.sent as f64;
            let (n1, t1, w1, _) = plain_binary(&mut dut(), gen, res, ndr_pass, 60.0, 2.0);
            plain_ndr.add(n1, t1, w1);
            let (n2, t2, w2, _) = plain_binary(&mut dut(), gen, res, pdr_pass, 60.0, 2.0);
            // The second search shares the trial at the maximum.
            plain_both.add(n1 + n2 - 1, t1 + t2 - 60.0, w1 + w2 - 62.0);
        }
        out.push_str(&format!(
            "\n{kind:?} DUT, resolution {} %, trial duration {trial_s} s, final 60 s:\n\
             | search | trials | trial time | wall time |\n|---|---|---|---|\n{}\n{}\n{}\n",
            res * 100.0,
            ours.row("ours, NDR + PDR"),
            plain_ndr.row("plain binary, 60 s trials, NDR only"),
            plain_both.row("plain binary, 60 s trials, NDR then PDR"),
        ));
        let (ours_n, ours_s) = (Stats::mean(&ours.trials), Stats::mean(&ours.wall_s));
        // Time: always well under a third of even the NDR-only plain search.
        assert!(
            ours_s < 0.3 * Stats::mean(&plain_ndr.wall_s),
            "{kind:?} {res}"
        );
        // Trials: fewer than the plain search for the same two answers at 1 %; fewer than
        // its NDR alone where the first guess is good (a knee DUT costs more, shorter trials).
        if res >= 0.01 {
            assert!(ours_n < Stats::mean(&plain_both.trials), "{kind:?} {res}");
        }
        if kind != Kind::Knee {
            assert!(ours_n < Stats::mean(&plain_ndr.trials), "{kind:?} {res}");
        }
    }
    println!("{out}");
}
