fn main() -> std::process::ExitCode {
    tsr::cli::main()
}
