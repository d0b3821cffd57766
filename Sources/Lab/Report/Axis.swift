import Foundation

/// One axis of a chart: its range, scale, ticks and title (with the unit).
struct Axis {
    var low: Double
    var high: Double
    /// Logarithmic: latencies span microseconds to the client timeout, so decades read better.
    var logarithmic: Bool
    var title: String
    var ticks: [Double]

    /// A linear axis from `low` to a "nice" value at or above `high` (1, 2, 2.5 or 5 × 10^k steps).
    static func linear(_ low: Double, _ high: Double, title: String, tickCount: Int = 5) -> Axis {
        let span = high > low ? high - low : max(abs(high), 1)
        let step = niceStep(span / Double(tickCount))
        let top = low + (span / step).rounded(.up) * step
        let count = Int(((top - low) / step).rounded())
        return Axis(low: low, high: top, logarithmic: false, title: title, ticks: (0...count).map { low + Double($0) * step })
    }

    /// A fixed linear axis with the given ticks (availability: 0–100 %).
    static func fixed(_ low: Double, _ high: Double, step: Double, title: String) -> Axis {
        let count = Int(((high - low) / step).rounded())
        return Axis(low: low, high: high, logarithmic: false, title: title, ticks: (0...count).map { low + Double($0) * step })
    }

    /// A log₁₀ axis over whole decades covering the positive values in `low…high`; ticks at each
    /// decade, and at 2 and 5 times it when there are at most two decades.
    static func logarithmic(_ low: Double, _ high: Double, title: String) -> Axis {
        let bottom = floor(log10(max(low, 1e-3))), top = max(ceil(log10(max(high, 1e-3))), bottom + 1)
        let factors: [Double] = top - bottom <= 2 ? [1, 2, 5] : [1]
        let ticks = stride(from: bottom, through: top, by: 1).flatMap { decade in factors.map { $0 * pow(10, decade) } }.filter { $0 <= pow(10, top) }
        return Axis(low: pow(10, bottom), high: pow(10, top), logarithmic: true, title: title, ticks: ticks)
    }

    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(rough)))
        for factor in [1, 2, 2.5, 5, 10] where factor * magnitude >= rough { return factor * magnitude }
        return 10 * magnitude
    }

    /// Where `value` falls between the ends, 0…1 (clamped: values outside are drawn on the edge).
    func fraction(_ value: Double) -> Double {
        let f = logarithmic ? (log10(max(value, low)) - log10(low)) / (log10(high) - log10(low)) : (value - low) / (high - low)
        return min(max(f, 0), 1)
    }

    /// A tick label with as many decimals as the tick step needs (at most 4).
    func label(_ value: Double) -> String {
        let step = logarithmic || ticks.count < 2 ? value : ticks[1] - ticks[0]
        let digits = (0...4).first { digits in
            let scaled = step * pow(10, Double(digits))
            return abs(scaled - scaled.rounded()) < 1e-6
        } ?? 4
        return Number.fixed(value, digits)
    }
}

/// The plotting rectangle of a chart and the two axes that map data onto it.
struct Plot {
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var x: Axis
    var y: Axis

    var right: Double { left + width }
    var bottom: Double { top + height }

    func px(_ value: Double) -> Double { left + x.fraction(value) * width }
    func py(_ value: Double) -> Double { bottom - y.fraction(value) * height }

    /// Grid lines, tick labels and axis titles.
    func drawAxes(_ svg: inout SVG, xTicks: Bool = true, yTicks: Bool = true) {
        for tick in yTicks ? y.ticks : [] {
            svg.line(left, py(tick), right, py(tick), [("stroke", Ink.grid), ("stroke-width", "0.8")])
            svg.text(left - 5, py(tick) + 4, y.label(tick), anchor: "end", size: 10, [("class", "ytick")])
        }
        if xTicks {
            for tick in x.ticks {
                svg.line(px(tick), top, px(tick), bottom, [("stroke", Ink.grid), ("stroke-width", "0.8")])
                svg.text(px(tick), bottom + 14, x.label(tick), anchor: "middle", size: 10, [("class", "xtick")])
            }
            svg.text(left + width / 2, bottom + 30, x.title, anchor: "middle", size: 11)
        }
        svg.rect(left, top, width, height, [("fill", "none"), ("stroke", Ink.axis), ("stroke-width", "1")])
        guard yTicks else { return }
        svg.text(left - 44, top + height / 2, y.title, anchor: "middle", size: 11,
                 [("transform", "rotate(-90 \(SVG.number(left - 44)) \(SVG.number(top + height / 2)))")])
    }
}
