"""schemathesis hooks of the contract suite (loaded through SCHEMATHESIS_HOOKS).

One adjustment of the spec schemathesis reads, and two narrow corrections; none turns a check off:

0. `before_load_schema` makes the mock's own rules part of the schemas schemathesis tests the mock
   against: openapi.yaml keeps the API's rules in its schemas and puts the mock's extra bounds
   (`limit` 1 to 100, `page` 0 to 1000000, a non-empty `query`) in `x-mock` extensions, so that the
   generated client does not enforce them. The mock does, so for schemathesis each `x-mock` is
   merged into its schema (the narrower bound winning): values within the mock's bounds must be
   accepted, values outside them refused, as for any other rule.

1. `filter_case` drops generated multipart forms with a field *name* that holds a control
   character (other than tab) or a backslash. A form field name travels inside the part's
   `Content-Disposition` header: HTTP forbids control characters in header values (RFC 9110
   section 5.5), and a backslash before the closing quote is an escape to RFC 2045 parsers but a
   literal to HTML5 encoders, so the two ends disagree on the name. Such cases test the
   multipart framing, not the API: schemathesis only produces them as extra, undeclared form
   properties, which the API ignores anyway.

2. `filter_failure` re-examines a "Schema-violating request accepted" (ST201) failure of a
   multipart request against the bytes actually sent: the form is parsed back from the wire,
   read as the API reads it (a part per declared property, integers from their text, a file part
   standing for a binary property) and validated against the operation's request schema. If that
   form is valid, the request was not negative and the failure is dropped; otherwise it stands.
   schemathesis 4.32.5 marks such valid requests as negative in three ways seen on this API:
   a stateful link writes a valid value over the negated field (the case keeps its "negative"
   mark), `null` is sent as the text "null" (a valid string), and negating one branch of
   CoverRequest's `anyOf` leaves the other branch satisfied. The run's summary reports how many
   failures were dropped this way.
"""

import re
from email.parser import BytesParser
from email.policy import HTTP

import jsonschema
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)\Z")


def _unsendable_name(name):
    return "\\" in name or any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in name)


_NARROWER = {"minimum": max, "minLength": max, "maximum": min, "maxLength": min}


def _merge_mock_rules(node):
    if isinstance(node, dict):
        own = node.pop("x-mock", None)
        if isinstance(own, dict):
            for keyword, bound in own.items():
                narrower = _NARROWER.get(keyword)
                if narrower is None or keyword not in node:
                    node[keyword] = bound
                else:
                    node[keyword] = narrower(node[keyword], bound)
        for value in node.values():
            _merge_mock_rules(value)
    elif isinstance(node, list):
        for value in node:
            _merge_mock_rules(value)


@schemathesis.hook
def before_load_schema(context, raw_schema):
    _merge_mock_rules(raw_schema)


@schemathesis.hook
def filter_case(context, case):
    body = case.body
    if isinstance(body, dict) and (case.media_type or "").startswith("multipart/"):
        return not any(isinstance(name, str) and _unsendable_name(name) for name in body)
    return True


def _parts_on_the_wire(request):
    content_type = request.headers.get("Content-Type", "")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_param("filename", header="content-disposition"),
            part.get_payload(decode=True) or b"",
        )
        for part in message.iter_parts()
    ]


def _form_as_the_api_reads_it(parts, schema):
    """The declared properties of the form, typed; None when a declared part is unreadable."""
    properties = schema.get("properties", {})
    form = {}
    for name, filename, payload in parts:
        if name not in properties:
            continue
        if name in form:
            return None
        declared = properties[name]
        if declared.get("format") == "binary":
            if filename is None:
                return None
            form[name] = ""
            continue
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if declared.get("type") == "integer" and _INTEGER.match(text):
            form[name] = int(text)
        else:
            form[name] = text
    return form


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if not isinstance(failure, AcceptedNegativeData):
        return True
    meta = case.meta
    if meta is None or any(
        info.mode.is_negative
        for location, info in meta.components.items()
        if location != ParameterLocation.BODY
    ):
        return True
    media_type = case.media_type or ""
    if not media_type.startswith("multipart/"):
        return True
    body = case.operation.get_body_for_media_type(media_type)
    if body is None or body.resolved_schema is None:
        return True
    parts = _parts_on_the_wire(response.request)
    if parts is None:
        return True
    form = _form_as_the_api_reads_it(parts, body.resolved_schema)
    if form is None:
        return True
    return not jsonschema.Draft4Validator(body.resolved_schema).is_valid(form)
