/// What reaches the medium, and how the disk gets it wrong: syncs, crashes and injected faults.
extension SimulatedFileSystem {
    /// The machine loses power: the cache, every handle and every lock are gone; names and bytes are
    /// what the medium has. With `partialWrite` or `tornWrite`, part of a file's unsynced bytes
    /// reached the medium first. A `FileStorage` that was open is dead (its handles fail); open a
    /// new one on this file system to recover.
    package func crash() {
        let named = Set(durableNames.values)
        for inode in files.indices where files[inode] != nil {
            if named.contains(inode) { reachMediumAtCrash(inode) }
            files[inode]!.dropCache()
        }
        names = durableNames
        handles.removeAll()
        lockedDirectories.removeAll()
        for inode in files.indices { collectIfUnreferenced(inode) }
    }

    /// Injects one fault now (the nemesis `disk` action) rather than at a rate. A bit flip needs a
    /// synced byte to land in; without one nothing happens (`injected` says what did).
    package func inject(_ fault: DiskFault) {
        switch fault {
        case .bitFlip:
            let candidates = durableNames.filter { !files[$0.value]!.medium.isEmpty }.sorted { $0.key < $1.key }
            guard !candidates.isEmpty else { return }
            let inode = candidates[random.index(below: candidates.count)].value
            flipBit(inode, at: random.index(below: files[inode]!.medium.count))
        case .lostWrite, .misdirectedWrite:
            armed.append(fault)
        }
    }

    /// A sync: the file's unsynced bytes go to the medium, or, faults permitting, go astray.
    func persist(_ inode: Int) {
        let length = files[inode]!.cached.count
        guard let tail = files[inode]!.unsyncedTail else {
            // At most a truncation is pending: the medium takes the new length.
            if files[inode]!.dirtyFrom != nil { files[inode]!.land(EmptyCollection(), at: length, length: length) }
            files[inode]!.markClean()
            return
        }
        files[inode]!.markClean()
        var offset = tail.offset
        switch nextWriteFault() {
        case .lostWrite:
            injected.lostWrites += 1
            return
        case .misdirectedWrite:
            offset = random.uniform(0...length)
            if offset >= tail.offset { offset += 1 }
            injected.misdirectedWrites += 1
        case .bitFlip, nil:
            break
        }
        files[inode]!.land(tail.bytes, at: offset, length: length)
        if random.chance(faults.bitFlip) { flipBit(inode, at: offset + random.index(below: tail.bytes.count)) }
    }

    /// An injected fault if one is waiting, else one drawn at the configured rates.
    private func nextWriteFault() -> DiskFault? {
        if !armed.isEmpty { return armed.removeFirst() }
        if random.chance(faults.lostWrite) { return .lostWrite }
        if random.chance(faults.misdirectedWrite) { return .misdirectedWrite }
        return nil
    }

    private func flipBit(_ inode: Int, at position: Int) {
        files[inode]!.medium[position] ^= 1 << UInt8(random.uniform(0...7))
        injected.bitFlips += 1
    }

    /// Part of the unsynced bytes reach the medium as the power fails: a clean prefix, or a torn
    /// one that ends in zeros or garbage (within the span the write covered).
    private func reachMediumAtCrash(_ inode: Int) {
        guard let tail = files[inode]!.unsyncedTail else { return }
        if random.chance(faults.tornWrite) {
            let kept = random.uniform(0...(tail.bytes.count - 1))
            let junkCount = random.uniform(1...(tail.bytes.count - kept))
            let junk = random.chance(0.5) ? [UInt8](repeating: 0, count: junkCount)
                                          : (0..<junkCount).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            files[inode]!.land(tail.bytes.prefix(kept) + junk, at: tail.offset, length: tail.offset + kept + junkCount)
            injected.tornWrites += 1
        } else if random.chance(faults.partialWrite) {
            let kept = random.uniform(1...tail.bytes.count)
            files[inode]!.land(tail.bytes.prefix(kept), at: tail.offset, length: tail.offset + kept)
            injected.partialWrites += 1
        }
    }
}
