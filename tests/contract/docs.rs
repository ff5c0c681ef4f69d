//! `docs/mock.md` against the mock: its admin table lists what the admin index lists (made from
//! the one declaration of the routes, in the mock's `http/admin.rs`), in the same order, and its
//! table of `respond`s has one row per fault kind, in [`FaultKind::ALL`]'s order, and its matcher
//! table's `headers` row names the headers the journal keeps ([`KEPT_HEADERS`]). xtask's
//! `docs-check` holds the flag tables to `--help`; these checks need the mock's types, which
//! xtask does not link, and the mock's own tests ship in its package without the docs.

use musicgpt_cover_contract_tests::workspace_dir;
use musicgpt_cover_mock::{FaultKind, KEPT_HEADERS, MockServer, Respond};
use serde_json::Value;

use crate::common::http;

const MOCK_DOC: &str = "docs/mock.md";

pub(crate) fn mock_doc() -> String {
    std::fs::read_to_string(workspace_dir().join(MOCK_DOC))
        .unwrap_or_else(|e| panic!("{MOCK_DOC}: {e}"))
}

/// The body rows of the first table under `heading` whose header row starts with `header`, as
/// cells (a `\|` inside a cell is text, not a border).
pub(crate) fn table(doc: &str, heading: &str, header: &str) -> Vec<Vec<String>> {
    let (_, section) = doc
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("{MOCK_DOC} has no heading {heading:?}"));
    let mut lines = section
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .skip_while(|line| !line.starts_with(header));
    assert!(
        lines.next().is_some(),
        "{MOCK_DOC}, {heading}: no table headed {header:?}"
    );
    lines
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let line = line.replace("\\|", "\u{0}");
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().replace('\u{0}', "|"))
                .collect()
        })
        .collect()
}

/// The text of a cell's first code span.
pub(crate) fn code(cell: &str) -> String {
    cell.split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no code in the cell {cell:?}"))
        .to_owned()
}

#[tokio::test]
async fn the_admin_table_lists_what_the_admin_index_lists() {
    let mock = MockServer::start().await;
    let index: Value = http()
        .get(mock.admin_url())
        .send()
        .await
        .expect("the admin index")
        .json()
        .await
        .expect("JSON");
    let text = |route: &Value, key: &str| route[key].as_str().unwrap_or_default().to_owned();
    let listed: Vec<(String, String)> = index["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|route| (text(route, "method"), text(route, "path")))
        .collect();
    let documented: Vec<(String, String)> = table(&mock_doc(), "## Admin API", "| method | path |")
        .iter()
        .map(|cells| (code(&cells[0]), code(&cells[1])))
        .collect();
    assert_eq!(
        documented, listed,
        "the table of {MOCK_DOC} (## Admin API) and GET /__admin differ: make the table list the routes the index does, in its order"
    );
}

#[test]
fn the_respond_table_has_a_row_per_fault_kind() {
    let documented: Vec<FaultKind> = table(
        &mock_doc(),
        "## Faults and scenarios",
        "| `respond` | what the client gets |",
    )
    .iter()
    .map(|cells| {
        let json = code(&cells[0]);
        serde_json::from_str::<Respond>(&json)
            .unwrap_or_else(|e| panic!("{MOCK_DOC}: the respond {json} does not read: {e}"))
            .kind()
    })
    .collect();
    assert_eq!(
        documented,
        FaultKind::ALL,
        "the respond table of {MOCK_DOC} (## Faults and scenarios) must have a row per fault kind, in FaultKind::ALL's order"
    );
}

#[test]
fn the_matcher_table_names_the_headers_the_journal_keeps() {
    let rows = table(
        &mock_doc(),
        "### Request matching",
        "| key | picks requests |",
    );
    let headers = rows
        .iter()
        .find(|cells| code(&cells[0]) == "headers")
        .unwrap_or_else(|| panic!("{MOCK_DOC}, ### Request matching: no `headers` row"));
    // The list runs from "the journal keeps," to the parenthesis that says why.
    let list = headers[1]
        .split_once("the journal keeps,")
        .and_then(|(_, rest)| rest.split_once('('))
        .map_or("", |(list, _)| list);
    let named: Vec<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        named, KEPT_HEADERS,
        "the `headers` row of {MOCK_DOC} (### Request matching) must name the headers the journal keeps, in KEPT_HEADERS' order"
    );
}
