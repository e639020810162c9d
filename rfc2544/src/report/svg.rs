//! A small SVG plot: a frame with axes, ticks and labels, and marks placed in data
//! coordinates. Enough for the report's four kinds of chart; nothing is fetched.

use std::fmt::Write as _;

const W: f64 = 640.0;
const H: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// A plot being drawn: x from 0 to `x_max`, y from `y_min` to `y_max`.
#[derive(Debug)]
pub(super) struct Plot {
    svg: String,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Plot {
    /// A plot with id `id`, y from 0 to a nice ceiling of the data's maximum with ticks at
    /// quarters, and x ticks where the caller says.
    pub fn new(id: &str, x_label: &str, y_label: &str, x_max: f64, data_y_max: f64) -> Plot {
        Plot::with_range(id, x_label, y_label, x_max, 0.0, nice_ceiling(data_y_max))
    }

    /// A plot whose y axis spans `lo..hi` widened to nice tick steps (quarters), to zoom on
    /// data far from zero; marks outside it are pinned to its edge.
    pub fn zoomed(id: &str, x_label: &str, y_label: &str, x_max: f64, lo: f64, hi: f64) -> Plot {
        if !(lo.is_finite() && hi.is_finite() && hi > lo && lo >= 0.0) {
            return Plot::new(id, x_label, y_label, x_max, hi);
        }
        let step = nice_ceiling((hi - lo) / 4.0);
        let y_min = (lo / step).floor() * step;
        let y_max = ((hi / step).ceil() * step).max(y_min + step);
        Plot::with_range(id, x_label, y_label, x_max, y_min, y_max)
    }

    fn with_range(
        id: &str,
        x_label: &str,
        y_label: &str,
        x_max: f64,
        y_min: f64,
        y_max: f64,
    ) -> Plot {
        let x_max = if x_max > 0.0 && x_max.is_finite() {
            x_max
        } else {
            1.0
        };
        let b = H - BOTTOM;
        let mut svg = format!(
            "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
             viewBox=\"0 0 {W} {H}\" role=\"img\" font-family=\"sans-serif\">\
             <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#333\"/>\
             <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#333\"/>\
             <text x=\"{cx}\" y=\"{lx}\" font-size=\"11\" text-anchor=\"middle\">{xl}</text>\
             <text x=\"12\" y=\"{cy}\" font-size=\"11\" text-anchor=\"middle\" \
             transform=\"rotate(-90 12 {cy})\">{yl}</text>",
            r = W - RIGHT,
            cx = (LEFT + W - RIGHT) / 2.0,
            cy = (TOP + b) / 2.0,
            lx = H - 6.0,
            xl = esc(x_label),
            yl = esc(y_label),
        );
        let mut p = Plot {
            svg: String::new(),
            x_max,
            y_min,
            y_max,
        };
        for k in 0..=4 {
            let v = y_min + (y_max - y_min) * f64::from(k) / 4.0;
            let y = p.y(v);
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.0}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
                 <text x=\"{:.0}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
                W - RIGHT,
                LEFT - 4.0,
                y + 3.0,
                short(v)
            );
        }
        p.svg = svg;
        p
    }

    /// An x tick label at data position `x`.
    pub fn x_tick(&mut self, x: f64, label: &str) {
        let _ = write!(
            self.svg,
            "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            self.x(x),
            H - BOTTOM + 13.0,
            esc(label)
        );
    }

    /// A line through `points`; `dash` like `"6 4"` or empty for solid.
    pub fn line(
        &mut self,
        class: &str,
        points: &[(f64, f64)],
        colour: &str,
        dash: &str,
        title: &str,
    ) {
        if points.is_empty() {
            return;
        }
        let pts: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.x(x), self.y(y)))
            .collect();
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = write!(
            self.svg,
            "<polyline class=\"{class}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} \
             points=\"{}\"><title>{}</title></polyline>",
            pts.join(" "),
            esc(title)
        );
    }

    /// A horizontal line across the plot at `y`.
    pub fn hline(&mut self, class: &str, y: f64, colour: &str, title: &str) {
        let _ = write!(
            self.svg,
            "<line class=\"{class}\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.0}\" y2=\"{y:.1}\" \
             stroke=\"{colour}\" stroke-dasharray=\"3 3\"><title>{}</title></line>",
            W - RIGHT,
            esc(title),
            y = self.y(y),
        );
    }

    /// A round mark at (x, y).
    pub fn dot(&mut self, class: &str, x: f64, y: f64, r: f64, colour: &str, title: &str) {
        let _ = write!(
            self.svg,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{colour}\">\
             <title>{}</title></circle>",
            self.x(x),
            self.y(y),
            esc(title)
        );
    }

    /// A square mark with an outline at (x, y).
    pub fn square(&mut self, class: &str, x: f64, y: f64, half: f64, colour: &str, title: &str) {
        let _ = write!(
            self.svg,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{w}\" height=\"{w}\" \
             fill=\"{colour}\" stroke=\"#000\"><title>{}</title></rect>",
            self.x(x) - half,
            self.y(y) - half,
            esc(title),
            w = 2.0 * half,
        );
    }

    /// The finished `<svg>` element.
    pub fn finish(mut self) -> String {
        self.svg.push_str("</svg>\n");
        self.svg
    }

    fn x(&self, x: f64) -> f64 {
        LEFT + (W - LEFT - RIGHT) * finite(x) / self.x_max
    }

    /// Whether `y` is beyond the top of the axis (the mark is pinned there).
    pub fn above(&self, y: f64) -> bool {
        y > self.y_max
    }

    /// A small label right of the mark at (x, y).
    pub fn label(&mut self, x: f64, y: f64, text: &str) {
        let _ = write!(
            self.svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
            self.x(x) + 7.0,
            self.y(y) + 3.0,
            esc(text)
        );
    }

    fn y(&self, y: f64) -> f64 {
        let span = self.y_max - self.y_min;
        let v = finite(y).clamp(self.y_min, self.y_max) - self.y_min;
        H - BOTTOM - (H - BOTTOM - TOP) * v / span
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// 1, 2 or 5 times a power of ten, at least `v`; 1 for nothing (or nothing finite) to show.
pub(super) fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mut step = 10f64.powf(v.log10().floor());
    loop {
        for m in [1.0, 2.0, 5.0] {
            if step * m >= v * (1.0 - 1e-12) {
                return step * m;
            }
        }
        step *= 10.0;
    }
}

fn short(v: f64) -> String {
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Escapes text for HTML and SVG.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_and_marks() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
        assert_eq!(nice_ceiling(14.88), 20.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(nice_ceiling(100.0), 100.0);
        let mut p = Plot::new("t", "x <1>", "y", 2.0, 14.88);
        p.x_tick(1.0, "64");
        p.line("l", &[(0.0, 1.0), (1.0, f64::NAN)], "#000", "6 4", "a&b");
        p.dot("d", 1.0, 30.0, 3.0, "#0a0", "t");
        p.square("s", 1.0, 3.0, 4.0, "#0a0", "t");
        p.hline("h", 5.0, "#000", "h");
        assert!(p.above(30.0) && !p.above(19.0));
        let s = p.finish();
        assert!(s.starts_with("<svg id=\"t\"") && s.ends_with("</svg>\n"));
        assert!(s.contains("x &lt;1&gt;") && s.contains("a&amp;b"));
        assert!(s.contains("stroke-dasharray=\"6 4\""));
        assert!(!s.contains("NaN") && !s.contains("inf"));
    }
}
