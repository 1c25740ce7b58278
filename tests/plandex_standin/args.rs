//! A tiny flag parser: each command declares its flags, anything else is an error.

use std::collections::BTreeMap;

/// One flag a command accepts: short form (may be empty), long form, takes a value.
pub struct Flag(pub &'static str, pub &'static str, pub bool);

/// Positional arguments and the flags given (by long name).
pub struct Parsed {
    pub positional: Vec<String>,
    flags: BTreeMap<&'static str, Option<String>>,
}

impl Parsed {
    /// Whether the flag (long name) was given.
    pub fn has(&self, long: &str) -> bool {
        self.flags.contains_key(long)
    }

    /// The value of a flag that takes one.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.flags.get(long).and_then(|v| v.as_deref())
    }
}

/// Parses `args` against `spec`: `--long`, `--long=value`, `--long value`, `-s`, `-s value`.
pub fn parse(args: &[String], spec: &[Flag]) -> Result<Parsed, String> {
    let mut parsed = Parsed {
        positional: Vec::new(),
        flags: BTreeMap::new(),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            parsed.positional.extend(iter.by_ref().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            parsed.positional.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let flag = spec
            .iter()
            .find(|f| name == f.1 || (!f.0.is_empty() && name == f.0))
            .ok_or_else(|| format!("unknown flag: {name}"))?;
        let value = match (flag.2, inline) {
            (true, Some(value)) => Some(value),
            (true, None) => Some(
                iter.next()
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: {name}"))?,
            ),
            (false, Some(_)) => return Err(format!("flag takes no argument: {name}")),
            (false, None) => None,
        };
        parsed.flags.insert(flag.1, value);
    }
    Ok(parsed)
}
