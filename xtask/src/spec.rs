//! What xtask's calls to a mock take from openapi.yaml, so that they say nothing the spec says
//! already: an operation's path, the Cover form's examples, byId's `conversionType` and the
//! statuses after which a conversion no longer changes.

use serde_json::Value;

use crate::{Error, Result, project};

/// openapi.yaml, read as data.
pub(crate) struct Spec(Value);

impl Spec {
    pub(crate) fn read() -> Result<Spec> {
        let text = project::read(&project::spec())?;
        serde_norway::from_str(&text)
            .map(Spec)
            .map_err(|e| Error::new(format!("openapi.yaml is not YAML: {e}")))
    }

    /// The path of the operation `id` (`/v1/Cover` for `cover`), without the servers' base path.
    pub(crate) fn path(&self, id: &str) -> Result<&str> {
        Ok(self.operation(id)?.0)
    }

    /// The operation `id` and its path.
    fn operation(&self, id: &str) -> Result<(&str, &Value)> {
        self.0["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .find_map(|(path, item)| {
                let operation = item
                    .as_object()?
                    .values()
                    .find(|o| o["operationId"] == id)?;
                Some((path.as_str(), operation))
            })
            .ok_or_else(|| Error::new(format!("openapi.yaml has no operation {id}")))
    }

    /// The example of the Cover form's field `name` (`Drake` for `voice_id`).
    pub(crate) fn cover_example(&self, name: &str) -> Result<&str> {
        self.0
            .pointer(&format!(
                "/components/schemas/CoverRequest/properties/{name}/example"
            ))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::new(format!(
                    "openapi.yaml: CoverRequest's {name} has no example"
                ))
            })
    }

    /// The `conversionType` with which getConversionById finds a Cover's conversion: that
    /// parameter's example (the client's `COVER_CONVERSION_TYPE`).
    pub(crate) fn cover_conversion_type(&self) -> Result<&str> {
        let (_, by_id) = self.operation("getConversionById")?;
        by_id["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "conversionType")
            .and_then(|p| p["schema"]["example"].as_str())
            .ok_or_else(|| Error::new("openapi.yaml: byId's conversionType has no example"))
    }

    /// `ConversionStatus`'s `x-final-values`: the statuses after which a conversion no longer
    /// changes.
    pub(crate) fn final_statuses(&self) -> Result<Vec<&str>> {
        self.0
            .pointer("/components/schemas/ConversionStatus/x-final-values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| Error::new("openapi.yaml: ConversionStatus has no x-final-values"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_calls_send() {
        let spec = Spec::read().expect("openapi.yaml reads");
        for id in ["cover", "getConversionById", "getAllVoices", "searchVoices"] {
            assert!(spec.path(id).is_ok_and(|p| p.starts_with('/')), "{id}");
        }
        assert!(spec.path("noSuchOperation").is_err());
        assert!(
            spec.cover_example("audio_url")
                .is_ok_and(|u| u.starts_with("https://"))
        );
        assert!(spec.cover_example("voice_id").is_ok_and(|v| !v.is_empty()));
        assert!(spec.cover_conversion_type().is_ok_and(|t| !t.is_empty()));
        assert!(spec.final_statuses().is_ok_and(|f| !f.is_empty()));
    }
}
