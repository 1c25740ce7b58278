//! `greet`: the small command-line program this crate tests with smoke-runner.
//!
//! `greet NAME…` greets each name; `greet --file PATH` greets each line of a file; `greet`
//! without a name fails with status 2.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> = match args.as_slice() {
        [flag, path] if flag == "--file" => match std::fs::read_to_string(path) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(error) => {
                eprintln!("greet: cannot read {path}: {error}");
                return ExitCode::from(1);
            }
        },
        [] => {
            eprintln!("usage: greet NAME... | greet --file PATH");
            return ExitCode::from(2);
        }
        names => names.to_vec(),
    };
    for name in names {
        println!("Hello, {name}!");
    }
    ExitCode::SUCCESS
}
