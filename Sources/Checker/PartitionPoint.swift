extension RandomAccessCollection where Index == Int {
    /// The first index whose element satisfies `isAfter`, for a predicate that is false up to some
    /// point and true from there on (a binary search: the collection is sorted by what it asks).
    func partitionPoint(_ isAfter: (Element) -> Bool) -> Int {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if isAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
