/// The two-sample Kolmogorov–Smirnov distance: the largest gap between two empirical
/// cumulative distributions. It is how Howard (Raft Refloated, 2015) scored simulated elections
/// against Ongaro's LogCabin trials, and how the study scores ours.
enum KolmogorovSmirnov {
    /// `nil` is a trial that never ended (no leader within the study's limit): it is beyond every
    /// time, so it ranks after every finite one and no finite time reaches it.
    static func distance(_ a: [Double?], _ b: [Double?]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        let x = a.compactMap { $0 }.sorted(), y = b.compactMap { $0 }.sorted()
        var i = 0, j = 0, largest = 0.0
        // Both cumulative functions are read just after each distinct time, so ties step together.
        while i < x.count || j < y.count {
            let time = min(i < x.count ? x[i] : .infinity, j < y.count ? y[j] : .infinity)
            while i < x.count && x[i] == time { i += 1 }
            while j < y.count && y[j] == time { j += 1 }
            largest = max(largest, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        return largest
    }
}
