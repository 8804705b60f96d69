fn main() -> std::process::ExitCode {
    tsr::cli::main()
}

// The checker allocates many small, short-lived values (types, spans,
// names); mimalloc checks 100k-line scripts about 1.6x faster than glibc's
// malloc on the benchmark scripts (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
