import Foundation
import Lab

/// `conlab`: the command-line face of the lab. Every subcommand is a thin layer over `Lab`.
let arguments = Array(CommandLine.arguments.dropFirst())
exit(Command.main(arguments))
