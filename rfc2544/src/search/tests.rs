//! Scenarios of the state machine with hand-made DUTs; the statistical properties are in
//! `tests/simulated_dut.rs`.

use super::*;

const GEN: f64 = 10e6;

/// A DUT that forwards up to `capacity` frames/s and drops the excess; the generator sends
/// `GEN` unpaced and exactly the rate asked otherwise.
fn clean(capacity: f64) -> impl FnMut(&TrialSpec) -> TrialOutcome {
    move |spec| {
        let d = spec.duration.as_secs_f64();
        let sent = (spec.rate_pps.unwrap_or(GEN) * d).round() as u64;
        TrialOutcome {
            sent,
            received: sent.min((capacity * d).round() as u64),
            duration_s: d,
            latency: Some(LatencySummary {
                min: 1_000,
                p50: 2_000,
                p99: 5_000,
                p999: 8_000,
                max: 9_000,
            }),
            ..Default::default()
        }
    }
}

fn run(search: &mut Search, mut dut: impl FnMut(&TrialSpec) -> TrialOutcome) -> SearchResult {
    let mut guard = 0;
    while let Some(spec) = search.next_trial() {
        assert_eq!(
            search.next_trial(),
            Some(spec),
            "pending trial handed out again"
        );
        let o = dut(&spec);
        search.record(spec.id, o).unwrap();
        guard += 1;
        assert!(guard <= 200, "runaway search");
    }
    assert_eq!(search.next_trial(), None);
    search.result()
}

fn cfg() -> SearchConfig {
    SearchConfig::default()
}

#[test]
fn clean_dut_is_found_within_resolution_in_few_trials() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let r = run(&mut s, clean(2e6));
    let ndr = r.ndr.unwrap();
    let pdr = r.pdr.unwrap();
    assert!(ndr.verified && pdr.verified && r.complete, "{:#?}", r.notes);
    assert!(
        ndr.rate_pps <= 2e6 && ndr.rate_pps >= 2e6 / 1.01,
        "{}",
        ndr.rate_pps
    );
    let true_pdr = 2e6 / (1.0 - 0.001);
    assert!(pdr.rate_pps <= true_pdr && pdr.rate_pps >= true_pdr / 1.01);
    assert!(ndr.rate_pps <= pdr.rate_pps && pdr.rate_pps <= r.max_rate_pps.unwrap());
    assert_eq!(r.max_rate_pps, Some(GEN));
    assert!((r.max_forwarding_pps.unwrap() - 2e6).abs() < 1.0);
    // Max rate, the guess (passes), one step up (fails: bracketed to 1 %), the verification
    // of the guess (a clean DUT is not re-measured at the full trial duration first).
    assert_eq!(r.trials.len(), 4, "{} trials", r.trials.len());
    // The verification trial of the NDR lost nothing and lasted the final duration.
    let v = r.trials.iter().find(|t| t.spec.id == ndr.trial_id).unwrap();
    assert_eq!(v.lost, 0);
    assert_eq!(v.spec.duration, DEFAULT_FINAL_DURATION);
    assert_eq!(ndr.latency.unwrap().p99, 5_000);
    // Phases: the first trials are short, the verification long.
    assert_eq!(r.trials[0].spec.kind, TrialKind::MaxRate);
    assert_eq!(r.trials[0].spec.rate_pps, None);
    assert_eq!(r.trials[0].spec.duration, Duration::from_millis(1250));
    assert_eq!(
        r.trials[1].spec.rate_pps,
        Some(2e6),
        "the guess: the forwarding rate"
    );
    assert!(r.trials.iter().filter(|t| t.spec.is_final()).count() <= 2);
}

#[test]
fn the_first_search_point_is_the_forwarding_rate_at_max_load() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let spec = s.next_trial().unwrap();
    s.record(spec.id, clean(3.3e6)(&spec)).unwrap();
    let guess = s.next_trial().unwrap();
    assert!((guess.rate_pps.unwrap() - 3.3e6).abs() < 1.0, "{guess:?}");
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("first search point near 3.300 Mpps")));
}

#[test]
fn a_dut_faster_than_the_generator_needs_two_trials() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(1518));
    let r = run(&mut s, clean(1e9));
    let kinds: Vec<TrialKind> = r.trials.iter().map(|t| t.spec.kind).collect();
    assert_eq!(
        kinds,
        [TrialKind::MaxRate, TrialKind::Final { goal: Goal::Ndr }]
    );
    assert_eq!(
        r.trials[1].spec.rate_pps,
        Some(GEN),
        "verified paced at the max rate"
    );
    assert_eq!(r.trials[0].superseded, [true; 2]);
    let (ndr, pdr) = (r.ndr.unwrap(), r.pdr.unwrap());
    assert_eq!(ndr.rate_pps, GEN);
    assert_eq!(
        pdr.trial_id, ndr.trial_id,
        "one verification serves both goals"
    );
    assert!(r.complete);
}

/// A DUT whose loss shows only in long trials: short trials pass up to 2 Mpps, trials of 60 s
/// lose a frame above 1.8 Mpps. The first verification fails, the search goes on below and
/// the result says so.
#[test]
fn a_failed_verification_lowers_the_bound_and_the_search_continues() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let mut inner = clean(2e6);
    let r = run(&mut s, |spec| {
        let mut o = inner(spec);
        let r = spec.rate_pps.unwrap_or(GEN);
        if spec.duration >= DEFAULT_FINAL_DURATION && r > 1.8e6 && o.received == o.sent {
            o.received -= 3;
        }
        o
    });
    let ndr = r.ndr.unwrap();
    assert!(ndr.verified && r.complete);
    assert!(
        ndr.rate_pps <= 1.8e6 && ndr.rate_pps >= 1.8e6 / 1.01,
        "{}",
        ndr.rate_pps
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("verification of NDR at")
                && n.contains("lost 3 frames")
                && n.contains("upper bound lowered")),
        "{:#?}",
        r.notes
    );
    let failed_final = r
        .trials
        .iter()
        .filter(|t| t.spec.is_final() && t.ndr == Verdict::Fail)
        .count();
    assert!(failed_final >= 1);
    // The PDR held in every trial at 2 Mpps and below: it is unaffected.
    assert!(r.pdr.unwrap().rate_pps >= 2e6 / 1.01);
}

#[test]
fn early_stop_thresholds_cover_the_goals_the_trial_can_inform() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let spec = s.next_trial().unwrap();
    assert_eq!(
        spec.abort_after_lost, None,
        "max-rate trial runs to the end"
    );
    s.record(spec.id, clean(2e6)(&spec)).unwrap();
    // The guess at 1.98 Mpps informs both goals: the PDR's threshold, 0.1 % of the frames.
    let guess = s.next_trial().unwrap();
    let frames = guess.rate_pps.unwrap() * 1.25 * 1.01;
    assert_eq!(
        guess.abort_after_lost,
        Some((0.001 * frames).floor() as u64 + 1)
    );
    assert!(guess.abort_after_lost.unwrap() > 1);
    // With the PDR settled, an NDR-only trial stops at the first lost frame.
    s.goals[Goal::Pdr.index()].done = Some(0);
    let informs = s.informs(Some(1.9e6), Goal::Ndr, None);
    assert_eq!(informs, [true, false]);
    assert_eq!(
        s.abort_threshold(1.9e6, Duration::from_secs(1), informs),
        Some(1)
    );
}

#[test]
fn a_trial_stopped_early_fails_only_what_its_loss_decides() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let spec = s.next_trial().unwrap();
    s.record(spec.id, clean(2e6)(&spec)).unwrap();
    let t = s.next_trial().unwrap();
    let limit = t.abort_after_lost.unwrap();
    let p = s
        .record(
            t.id,
            TrialOutcome {
                sent: 100_000,
                received: 100_000 - limit,
                duration_s: 0.05,
                stopped_early: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((p.trial.ndr, p.trial.pdr), (Verdict::Fail, Verdict::Fail));
    // Stopped early with a loss below the PDR's threshold: the NDR fails, the PDR is unknown.
    let t = s.next_trial().unwrap();
    let p = s
        .record(
            t.id,
            TrialOutcome {
                sent: 1000,
                received: 999,
                duration_s: 0.01,
                stopped_early: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (p.trial.ndr, p.trial.pdr),
        (Verdict::Fail, Verdict::Unknown)
    );
}

#[test]
fn outcomes_for_other_trials_are_refused_and_change_nothing() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    assert_eq!(
        s.record(1, TrialOutcome::default()).unwrap_err(),
        Error::UnexpectedTrial {
            id: 1,
            pending: None
        }
    );
    let spec = s.next_trial().unwrap();
    assert_eq!(spec.id, 1);
    assert_eq!(
        s.record(7, TrialOutcome::default()).unwrap_err(),
        Error::UnexpectedTrial {
            id: 7,
            pending: Some(1)
        }
    );
    assert!(s.trials().is_empty());
    assert_eq!(s.next_trial(), Some(spec));
}

#[test]
fn nonsense_outcomes_do_not_panic() {
    let mut s = Search::new(cfg(), FrameSize::Imix);
    let spec = s.next_trial().unwrap();
    // A NaN duration falls back to the planned one; more received than sent is no loss.
    let p = s
        .record(
            spec.id,
            TrialOutcome {
                sent: 1_000_000,
                received: 1_000_010,
                duration_s: f64::NAN,
                wall_s: Some(f64::INFINITY),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(p.trial.lost, 0);
    assert_eq!(p.trial.outcome.duration_s, 1.25);
    assert!(p.trial.wall_s.is_finite());
    assert_eq!(p.trial.ndr, Verdict::Pass);
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("10 more frames received than sent")));
    assert!(s.notes.iter().any(|n| n.contains("duration of NaN s")));
    // Two trials that send nothing stop the search.
    for _ in 0..2 {
        let t = s.next_trial().unwrap();
        s.record(t.id, TrialOutcome::default()).unwrap();
    }
    assert_eq!(s.next_trial(), None);
    let r = s.result();
    assert!(!r.complete);
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("sent nothing in two trials")));
    // The unverified lower bound is still reported.
    assert!(r.ndr.is_some_and(|n| !n.verified));
}

#[test]
fn a_generator_that_cannot_reach_the_rate_is_noted_and_caps_the_search() {
    // Unpaced it sends 10 Mpps; paced it tops out at 5 Mpps; the DUT carries 8 Mpps.
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let mut dut = clean(8e6);
    let r = run(&mut s, |spec| {
        let mut capped = *spec;
        capped.rate_pps = spec.rate_pps.map(|r| r.min(5e6));
        dut(&capped)
    });
    let ndr = r.ndr.unwrap();
    assert!(ndr.verified && (ndr.rate_pps - 5e6).abs() < 1.0, "{ndr:?}");
    assert!(r.trials.iter().any(|t| t.generator_limited));
    assert!(r.notes.iter().any(|n| n.contains("generator-limited")));
    assert!(r.trials.len() <= 8);
}

#[test]
fn the_duration_cap_returns_unverified_bounds() {
    let cfg = SearchConfig::builder()
        .duration_cap(Some(Duration::from_secs(30)))
        .build()
        .unwrap();
    let mut s = Search::new(cfg, FrameSize::Fixed(64));
    let r = run(&mut s, clean(2e6));
    let spent: f64 = r
        .trials
        .iter()
        .map(|t| t.spec.planned_wall().as_secs_f64())
        .sum();
    assert!(spent <= 30.0);
    assert!(!r.complete);
    let ndr = r.ndr.unwrap();
    assert!(!ndr.verified && ndr.rate_pps <= 2e6);
    assert_eq!(r.status, [GoalStatus::Unfinished; 2]);
    assert!(r.notes.iter().any(|n| n.contains("duration cap (30 s)")
        && n.contains("NDR and PDR reported from the best-known bounds, unverified")));
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("is a lower bound from an unverified trial")));
}

#[test]
fn the_trial_limit_ends_any_search() {
    let cfg = SearchConfig::builder().max_trials(3).build().unwrap();
    let mut s = Search::new(cfg, FrameSize::Fixed(64));
    let r = run(&mut s, clean(2e6));
    assert_eq!(r.trials.len(), 3);
    assert!(r.notes.iter().any(|n| n.contains("trial limit (3)")));
}

#[test]
fn a_dut_losing_more_than_the_tolerance_everywhere_has_no_result() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    let r = run(&mut s, |spec| {
        let d = spec.duration.as_secs_f64();
        let sent = (spec.rate_pps.unwrap_or(GEN) * d).round() as u64;
        TrialOutcome {
            sent,
            received: sent - sent / 100,
            duration_s: d,
            ..Default::default()
        }
    });
    assert!(r.ndr.is_none() && r.pdr.is_none() && r.complete);
    assert_eq!(r.status, [GoalStatus::NoResult; 2]);
    assert!(r
        .notes
        .iter()
        .any(|n| n.starts_with("no NDR: frames were lost at every rate")));
    let lowest = r
        .trials
        .iter()
        .map(|t| t.achieved_pps)
        .fold(f64::INFINITY, f64::min);
    assert!(lowest <= DEFAULT_MIN_RATE_PPS * 1.01);
    assert!(r.trials.len() <= 16, "{}", r.trials.len());
}

#[test]
fn bounds_and_eta_follow_the_search() {
    let mut s = Search::new(cfg(), FrameSize::Fixed(64));
    assert_eq!(s.bounds(Goal::Ndr).upper_pps, None);
    let fresh = s.eta();
    assert!(fresh > DEFAULT_FINAL_DURATION, "{fresh:?}");
    let mut dut = clean(2e6);
    let spec = s.next_trial().unwrap();
    let p = s.record(spec.id, dut(&spec)).unwrap();
    assert_eq!(p.ndr.upper_pps, Some(GEN));
    assert_eq!(p.trial_no, 1);
    let mut last = p.eta;
    while let Some(spec) = s.next_trial() {
        let p = s.record(spec.id, dut(&spec)).unwrap();
        if let (Some(lo), Some(hi)) = (p.ndr.lower_pps, p.ndr.upper_pps) {
            assert!(lo <= hi);
        }
        last = p.eta;
    }
    assert_eq!(s.eta(), Duration::ZERO);
    assert!(last <= DEFAULT_FINAL_DURATION + Duration::from_secs(1));
}

#[test]
fn trial_ids_start_where_asked_and_skip_zero() {
    let mut s = Search::with_first_id(cfg(), FrameSize::Fixed(64), 0);
    assert_eq!(s.next_trial().unwrap().id, 1);
    let mut s = Search::with_first_id(cfg(), FrameSize::Fixed(64), 41);
    assert_eq!(s.next_trial().unwrap().id, 41);
    let mut s = Search::with_first_id(cfg(), FrameSize::Fixed(64), u32::MAX);
    let spec = s.next_trial().unwrap();
    s.record(spec.id, clean(1e6)(&spec)).unwrap();
    assert_eq!(s.next_trial().unwrap().id, 1);
}

#[test]
fn pdr_threshold_is_safe_for_any_input() {
    assert_eq!(pdr_threshold(0.001, 1e6, Duration::from_secs(1)), 1011);
    assert_eq!(pdr_threshold(0.0, 1e6, Duration::from_secs(1)), 1);
    assert_eq!(pdr_threshold(0.001, f64::NAN, Duration::from_secs(1)), 1);
    assert_eq!(
        pdr_threshold(0.001, f64::INFINITY, Duration::from_secs(1)),
        1
    );
}
