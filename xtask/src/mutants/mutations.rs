//! The mutations of openapi.yaml that `cargo xtask mutants` applies, and how an edit is applied:
//! every anchor must occur exactly once in the spec.

use crate::{Error, Result};

/// One textual edit of the spec. Each anchor must occur exactly once, so a spec change that moves
/// or rewords the anchored text fails loudly instead of silently turning the mutation off.
pub(super) enum Edit {
    /// Replace `find` with `with`.
    Replace {
        find: &'static str,
        with: &'static str,
    },
    /// Remove everything from `from` (included) up to the first `until` after it (kept).
    Cut {
        from: &'static str,
        until: &'static str,
    },
}

/// A drift that a spec edit could introduce, which the suite must notice.
pub(super) struct Mutation {
    pub(super) name: &'static str,
    pub(super) summary: &'static str,
    edits: &'static [Edit],
}

/// Cuts the Cover form's rule on the song (the one member of CoverRequest's `allOf`, the last
/// keyword of the schema).
const CUT_AUDIO_RULE: Edit = Edit::Cut {
    from: "      allOf:\n        - description: |\n            The rule on the song",
    until: "    CoverResponse:\n",
};

/// The mutations. Each keeps openapi.yaml a valid, lint-clean spec (the table's `lint-clean`
/// column checks it), so what catches it is the contract suite, not a broken document.
pub(super) const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "rename-eta",
        summary: "CoverResponse's `eta` renamed `eta_seconds` everywhere: property and both 200 examples (it is not required)",
        edits: &[
            Edit::Replace {
                find: "        eta:\n          type: integer\n          description: Estimated seconds",
                with: "        eta_seconds:\n          type: integer\n          description: Estimated seconds",
            },
            // Twenty spaces: the Cover 200 examples; byId's examples indent `eta` by twenty-two.
            Edit::Replace {
                find: "\n                    eta: 33\n",
                with: "\n                    eta_seconds: 33\n",
            },
            Edit::Replace {
                find: "\n                    eta: 71\n",
                with: "\n                    eta_seconds: 71\n",
            },
        ],
    },
    Mutation {
        name: "narrow-pitch",
        summary: "CoverRequest's `pitch` maximum 12 → 6",
        edits: &[Edit::Replace {
            find: "          maximum: 12\n          default: 0\n          description: Pitch shift",
            with: "          maximum: 6\n          default: 0\n          description: Pitch shift",
        }],
    },
    Mutation {
        name: "drop-402",
        summary: "`POST /v1/Cover` loses its 402 response (insufficient credit)",
        edits: &[Edit::Cut {
            from: "        '402':\n",
            until: "        '403':\n",
        }],
    },
    Mutation {
        name: "change-200-example",
        summary: "the Cover 200 `minimal` example's `eta` 33 → 34",
        edits: &[Edit::Replace {
            find: "\n                    eta: 33\n",
            with: "\n                    eta: 34\n",
        }],
    },
    Mutation {
        name: "voice-id-optional",
        summary: "CoverRequest's `voice_id` no longer required",
        edits: &[Edit::Replace {
            find: "      required:\n        - voice_id\n      properties:\n",
            with: "      properties:\n",
        }],
    },
    Mutation {
        name: "drop-audio-rule",
        summary: "CoverRequest loses its rule on the song: a form with neither `audio_url` nor `audio_file` is valid",
        edits: &[CUT_AUDIO_RULE],
    },
    Mutation {
        name: "audio-rule-bare-any-of",
        summary: "CoverRequest's rule on the song back beside `properties` as a bare `anyOf` of `required` lists: the same rule, which generators read as a union that loses the fields' types",
        edits: &[
            CUT_AUDIO_RULE,
            Edit::Replace {
                find: "    CoverResponse:\n",
                with: "      anyOf:\n        - required: [audio_file]\n        - required: [audio_url]\n          properties:\n            audio_url:\n              type: string\n              minLength: 1\n    CoverResponse:\n",
            },
        ],
    },
    Mutation {
        name: "change-422-example",
        summary: "the Cover 422 `no_audio` example's text reworded",
        edits: &[Edit::Replace {
            find: "error: Both audio_url and audio_file cannot be None\n",
            with: "error: Neither audio_url nor audio_file was given\n",
        }],
    },
    Mutation {
        name: "webhook-ids-uuid",
        summary: "CoverWebhook's `task_id` and `conversion_id` are `format: uuid` again (the API's ids are plain strings)",
        edits: &[Edit::Replace {
            find: "        task_id:\n          type: string\n        conversion_id:\n          type: string\n        audio_url:\n",
            with: "        task_id:\n          type: string\n          format: uuid\n        conversion_id:\n          type: string\n          format: uuid\n        audio_url:\n",
        }],
    },
    Mutation {
        name: "error-requires-success",
        summary: "`Error` requires `success` again (a FastAPI `{\"detail\": ...}` body has none)",
        edits: &[Edit::Replace {
            find: "      properties:\n        success:\n          type: boolean\n          description: '`false` on an error.'\n",
            with: "      required:\n        - success\n      properties:\n        success:\n          type: boolean\n          description: '`false` on an error.'\n",
        }],
    },
    Mutation {
        name: "new-status",
        summary: "ConversionStatus gains the known value `CANCELLED` (`x-known-values`): the client's status enum must gain a variant",
        edits: &[Edit::Replace {
            find: "      x-known-values: [IN_QUEUE, PROCESSING, IN_PROGRESS, COMPLETED, FAILED, ERROR]\n",
            with: "      x-known-values: [IN_QUEUE, PROCESSING, IN_PROGRESS, COMPLETED, FAILED, ERROR, CANCELLED]\n",
        }],
    },
    Mutation {
        name: "limit-bound-for-all",
        summary: "the mock's own `limit` minimum (`x-mock`) made the schema's, so the client enforces it too",
        edits: &[Edit::Replace {
            find: "        type: integer\n        default: 20\n        x-mock:\n          minimum: 1\n",
            with: "        type: integer\n        minimum: 1\n        default: 20\n        x-mock:\n          minimum: 1\n",
        }],
    },
];

impl Mutation {
    /// The mutated spec; fails, naming the anchor, unless every edit applies exactly once.
    pub(super) fn apply(&self, spec: &str) -> Result<String> {
        let mut text = spec.to_string();
        for edit in self.edits {
            text = match edit {
                Edit::Replace { find, with } => {
                    let at = self.locate(&text, find)?;
                    let mut mutated = text[..at].to_string();
                    mutated.push_str(with);
                    mutated.push_str(&text[at + find.len()..]);
                    mutated
                }
                Edit::Cut { from, until } => {
                    let start = self.locate(&text, from)?;
                    let length = text[start..].find(until).ok_or_else(|| {
                        self.broken(format!("found {from:?} but no {until:?} after it"))
                    })?;
                    let mut mutated = text[..start].to_string();
                    mutated.push_str(&text[start + length..]);
                    mutated
                }
            };
        }
        Ok(text)
    }

    /// Where `anchor` starts in `text`, when it occurs there exactly once.
    fn locate(&self, text: &str, anchor: &str) -> Result<usize> {
        let found: Vec<usize> = text.match_indices(anchor).map(|(at, _)| at).collect();
        match found.as_slice() {
            [at] => Ok(*at),
            [] => Err(self.broken(format!("the anchor {anchor:?} is not in openapi.yaml"))),
            _ => Err(self.broken(format!(
                "the anchor {anchor:?} occurs {} times in openapi.yaml, so the edit is ambiguous",
                found.len()
            ))),
        }
    }

    fn broken(&self, what: String) -> Error {
        Error::new(format!(
            "mutation `{}`: {what}; the spec changed under it: update its anchors in \
             xtask/src/mutants/mutations.rs so it still mutates what it says ({})",
            self.name, self.summary
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::fs;

    use super::*;
    use crate::project;

    fn spec() -> String {
        fs::read_to_string(project::spec())
            .unwrap_or_else(|e| panic!("could not read openapi.yaml: {e}"))
    }

    /// A spec edit that moves an anchor must fail here, in `cargo test`, not first in the CI step.
    #[test]
    fn every_mutation_applies_exactly_once_to_openapi_yaml() {
        let spec = spec();
        for mutation in MUTATIONS {
            let mutated = mutation.apply(&spec).unwrap_or_else(|e| panic!("{e}"));
            assert_ne!(
                mutated, spec,
                "mutation `{}` changed nothing",
                mutation.name
            );
        }
    }

    #[test]
    fn mutations_have_distinct_names_and_results() {
        let spec = spec();
        let names: BTreeSet<&str> = MUTATIONS.iter().map(|mutation| mutation.name).collect();
        assert_eq!(names.len(), MUTATIONS.len());
        let results: BTreeSet<String> = MUTATIONS
            .iter()
            .filter_map(|mutation| mutation.apply(&spec).ok())
            .collect();
        assert_eq!(results.len(), MUTATIONS.len());
    }

    #[test]
    fn the_rename_reaches_the_schema_and_the_examples() {
        let Some(rename) = MUTATIONS.iter().find(|m| m.name == "rename-eta") else {
            panic!("no rename-eta mutation");
        };
        let mutated = rename.apply(&spec()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mutated.matches("eta_seconds").count(), 3);
        // byId's Conversion keeps its own `eta`: the rename touches CoverResponse only.
        assert!(mutated.contains("\n                      eta: 33\n"));
    }

    #[test]
    fn the_audio_rule_moves_whole_beside_the_properties() {
        let Some(bare) = MUTATIONS
            .iter()
            .find(|m| m.name == "audio-rule-bare-any-of")
        else {
            panic!("no audio-rule-bare-any-of mutation");
        };
        let mutated = bare.apply(&spec()).unwrap_or_else(|e| panic!("{e}"));
        let form = mutated
            .split_once("\n    CoverRequest:\n")
            .and_then(|(_, rest)| rest.split_once("\n    CoverResponse:\n"))
            .map(|(form, _)| form)
            .unwrap_or_default();
        assert!(!form.contains("allOf"), "{form}");
        assert!(
            form.ends_with("\n      anyOf:\n        - required: [audio_file]\n        - required: [audio_url]\n          properties:\n            audio_url:\n              type: string\n              minLength: 1"),
            "{form}"
        );
    }

    #[test]
    fn an_anchor_that_is_missing_or_repeated_is_an_error_naming_the_mutation() {
        let mutation = Mutation {
            name: "example",
            summary: "a test mutation",
            edits: &[Edit::Replace {
                find: "eta: 33",
                with: "eta: 34",
            }],
        };
        let missing = mutation.apply("nothing here").err().map(|e| e.to_string());
        assert!(missing.is_some_and(|m| m.contains("`example`") && m.contains("is not in")));
        let repeated = mutation
            .apply("eta: 33\neta: 33\n")
            .err()
            .map(|e| e.to_string());
        assert!(repeated.is_some_and(|m| m.contains("occurs 2 times")));
        assert_eq!(
            mutation.apply("a\neta: 33\nb").ok().as_deref(),
            Some("a\neta: 34\nb")
        );
    }

    #[test]
    fn a_cut_removes_up_to_the_next_anchor() {
        let mutation = Mutation {
            name: "cut",
            summary: "a test cut",
            edits: &[Edit::Cut {
                from: "'402':\n",
                until: "'403':\n",
            }],
        };
        let spec = "'400':\n  a\n'402':\n  b\n  c\n'403':\n  d\n'402x'\n";
        assert_eq!(
            mutation.apply(spec).ok().as_deref(),
            Some("'400':\n  a\n'403':\n  d\n'402x'\n")
        );
        let no_end = mutation.apply("'402':\n  b\n").err().map(|e| e.to_string());
        assert!(no_end.is_some_and(|m| m.contains("no \"'403':\\n\" after it")));
    }
}
