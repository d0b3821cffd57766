import RESP

/// Bytes of a string, for writing wire input and expected output as text.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The wire form of a command as clients send it (`*n` of bulk strings).
func multibulk(_ arguments: String...) -> [UInt8] {
    RESPValue.command(arguments.map(bytes)).encoded(version: .resp2)
}

/// Arguments given as strings, as the parser yields them.
func args(_ arguments: String...) -> [[UInt8]] { arguments.map(bytes) }

/// Feeds `input` to a fresh parser in one piece and returns the commands, or the error.
func parseAll(_ input: [UInt8], limits: RESPLimits = RESPLimits()) -> Result<[[[UInt8]]], RESPProtocolError> {
    var parser = RESPParser(limits: limits)
    do throws(RESPProtocolError) {
        return .success(try parser.parse(input))
    } catch {
        return .failure(error)
    }
}
