/// Whether an order of a key's operations is a linearization: the one judge of every witness the
/// checker builds without searching (`EpochWitness`), so that a verdict "linearizable" never rests
/// on the construction's reasoning, only on this replay.
///
/// An order is a linearization (Herlihy & Wing 1990) when it contains every mandatory operation
/// once and optional ones at most once, replaying it on a sequential register gives every recorded
/// result, and it respects real time: each operation can be given a point inside its interval with
/// the points non-decreasing along the order, which holds exactly when no operation completes
/// before one placed ahead of it was invoked (then the running maximum of invocations is such a
/// choice of points). Touching intervals count as concurrent, as in the search.
enum WitnessReplay {
    static func isLinearization(_ order: [ModelOperation], of history: KeyHistory) -> Bool {
        guard coversMandatory(order, history), respectsRealTime(order) else { return false }
        return replays(order, values: history.space.values)
    }

    static func coversMandatory(_ order: [ModelOperation], _ history: KeyHistory) -> Bool {
        var placed = [Bool](repeating: false, count: history.operations.count)
        for operation in order {
            guard !placed[Int(operation.source)] else { return false }
            placed[Int(operation.source)] = true
        }
        return history.mandatory.allSatisfy { placed[Int($0.source)] }
    }

    static func respectsRealTime(_ order: [ModelOperation]) -> Bool {
        var latestInvoke = Int64.min
        for operation in order {
            latestInvoke = max(latestInvoke, operation.invoke)
            guard operation.deadline >= latestInvoke else { return false }
        }
        return true
    }

    /// Replays the order on a register holding a string or nothing.
    static func replays(_ order: [ModelOperation], values: [String]) -> Bool {
        var state: String?
        return order.allSatisfy { apply($0.action, to: &state, values: values) }
    }

    /// Applies one operation to the register; whether its recorded result holds there.
    static func apply(_ action: RegisterAction, to state: inout String?, values: [String]) -> Bool {
        func value(_ id: RegisterSpace.ValueID) -> String? { id == RegisterSpace.noValue ? nil : values[Int(id)] }
        switch action {
        case .read(let observed): return state == value(observed)
        case .differs(let expected): return state != value(expected)
        case .put(let written): state = values[Int(written)]
        case .delete: state = nil
        case .append(let fragment): state = (state ?? "") + values[Int(fragment)]
        case .cas(let expected, let written):
            guard state == value(expected) else { return false }
            state = values[Int(written)]
        }
        return true
    }
}
