use std::path::PathBuf;

use super::*;
use crate::suite::parse_suite;

/// Two suites: `git` (tagged `vcs`) and `Core Utils`, steps tagged `slow` and `network`.
fn suites() -> Vec<Suite> {
    let git = parse_suite(
        "name = \"git\"\ntags = [\"vcs\"]\n\
         [[step]]\nname = \"clone\"\nsh = \"true\"\ntags = [\"slow\", \"network\"]\n\
         [[step]]\nname = \"status\"\nsh = \"true\"\n",
        &PathBuf::from("suites/git.toml"),
    )
    .unwrap();
    let core = parse_suite(
        "name = \"Core Utils\"\n\
         [[step]]\nsection = \"Sorting\"\nname = \"sort big\"\nsh = \"true\"\ntags = [\"slow\"]\n\
         [[step]]\nname = \"echo\"\nsh = \"true\"\n",
        &PathBuf::from("suites/extra/core.toml"),
    )
    .unwrap();
    vec![git, core]
}

/// The test names in the set.
fn select(expression: &str) -> Vec<String> {
    let set = Filterset::parse(expression).unwrap_or_else(|e| panic!("{e}"));
    suites()
        .iter()
        .flat_map(|suite| suite.steps.iter().map(move |step| (suite, step)))
        .filter(|(suite, step)| set.matches(suite, step))
        .map(|(_, step)| step.test_name.clone())
        .collect()
}

#[test]
fn predicates_and_default_matchers() {
    assert_eq!(
        select("tag(slow)"),
        ["git::clone", "core_utils::sorting::sort_big"]
    );
    assert_eq!(select("tag(vcs)"), ["git::clone", "git::status"]);
    assert_eq!(select("test(sort)"), ["core_utils::sorting::sort_big"]);
    assert_eq!(select("suite(git)"), ["git::clone", "git::status"]);
    // The suite's name or its slug, by glob.
    assert_eq!(select("suite(Core*)").len(), 2);
    assert_eq!(select("suite(core_utils)").len(), 2);
    assert_eq!(select("suite(core)"), Vec::<String>::new());
    assert_eq!(select("file(suites/extra/*)").len(), 2);
    assert_eq!(select("all()").len(), 4);
    assert_eq!(select("none()"), Vec::<String>::new());
}

#[test]
fn matchers_exact_contains_glob_regex() {
    assert_eq!(select("test(=git::clone)"), ["git::clone"]);
    assert_eq!(select("test(=clone)"), Vec::<String>::new());
    assert_eq!(select("test(~stat)"), ["git::status"]);
    assert_eq!(select("test(#git::*)"), ["git::clone", "git::status"]);
    assert_eq!(
        select("test(/^core.*big$/)"),
        ["core_utils::sorting::sort_big"]
    );
    assert_eq!(select("tag(=slo)"), Vec::<String>::new());
    assert_eq!(select("tag(~slo)").len(), 2);
    assert_eq!(select("tag(net*)"), ["git::clone"]);
}

#[test]
fn operators_bind_as_in_nextest() {
    assert_eq!(
        select("tag(slow) and not suite(git)"),
        ["core_utils::sorting::sort_big"]
    );
    assert_eq!(
        select("tag(slow) & !suite(git)"),
        ["core_utils::sorting::sort_big"]
    );
    assert_eq!(
        select("tag(slow) - suite(git)"),
        ["core_utils::sorting::sort_big"]
    );
    assert_eq!(
        select("test(echo) | test(status)"),
        ["git::status", "core_utils::echo"]
    );
    assert_eq!(select("test(echo) + test(status)").len(), 2);
    // `and` binds tighter than `or`; `not` tighter than both; left to right.
    assert_eq!(
        select("test(echo) or tag(slow) and suite(git)"),
        ["git::clone", "core_utils::echo"]
    );
    assert_eq!(
        select("(test(echo) or tag(slow)) and suite(git)"),
        ["git::clone"]
    );
    assert_eq!(select("not tag(slow) or test(clone)").len(), 3);
    assert_eq!(select("not(tag(slow))").len(), 2);
    assert_eq!(select("  tag( slow )  ").len(), 2);
}

#[test]
fn escapes_in_matchers() {
    let set = Filterset::parse(r"test(=a\)b\,c\\d\u{41})").unwrap();
    let Expr::Test(Matcher::Equal(text)) = &set.root else {
        panic!("{:?}", set.root);
    };
    assert_eq!(text, "a)b,c\\dA");
    let set = Filterset::parse(r"test(/a\/b/)").unwrap();
    let Expr::Test(Matcher::Regex(regex)) = &set.root else {
        panic!("{:?}", set.root);
    };
    assert_eq!(regex.as_str(), "a/b");
}

fn error(expression: &str) -> String {
    Filterset::parse(expression).unwrap_err().to_string()
}

const HELP: &str = "  = help: predicates are test(), suite(), tag(), file(), all(), none(); combine them with and, or, not, -, and parentheses; matchers are =exact, ~contains, #glob, /regex/";

#[test]
fn bad_expressions_point_at_the_fault() {
    let cases = [
        ("tag(slow", "expected `)` to close `tag(`", "        ^"),
        (
            "tag(slow) and",
            "expected a predicate such as `test(…)` or `tag(…)`, found the end",
            "             ^",
        ),
        (
            "tags(slow)",
            "expected a predicate such as `test(…)` or `tag(…)`, found `tags`",
            "^^^^",
        ),
        (
            "tag(slow) suite(git)",
            "expected `and`, `or` or the end of the expression",
            "          ^",
        ),
        (
            "(tag(a) or tag(b)",
            "expected `)` to close the `(` at column 1",
            "                 ^",
        ),
        (
            "tag()",
            "empty matcher: write the name to match, or use all()",
            "    ^",
        ),
        ("test(/(/)", "invalid regex: unclosed group", "     ^^^"),
        (
            "tag(a[)",
            "invalid glob: unclosed character class; missing ']'",
            "    ^^",
        ),
        ("all(x)", "`all()` takes no matcher", "    ^"),
        (
            "test(a\\q)",
            "unknown escape: write `\\)`, `\\,`, `\\\\`, `\\/`, `\\n`, `\\r`, `\\t` or `\\u{…}`",
            "      ^^",
        ),
        ("suite", "expected `(` after `suite`", "     ^"),
        ("test(/abc)", "the regex has no closing `/`", "     ^^^^^"),
    ];
    for (expression, message, caret) in cases {
        assert_eq!(
            error(expression),
            format!(
                "invalid filter expression: {message}\n  |\n  | {expression}\n  | {caret}\n{HELP}"
            ),
            "{expression}"
        );
    }
}
