"""A JSON form field that reads like a document: indented by two, with the schema it must follow beside it.

Django's ``forms.JSONField`` shows a value on one line; an asset spec or a
policy's rules then fill one unreadable row. ``PrettyJSONField`` indents it,
says where a syntax error is, and its ``JSONEditor`` widget shows the JSON
schema (pydantic's ``model_json_schema`` of the contract that validates the
value on save) in a collapsible panel. The contract's own messages are the
validation errors; this field only parses.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.html import format_html

MIN_ROWS, MAX_ROWS = 10, 40


class JSONEditor(forms.Textarea):
    """A monospace textarea sized to its text, with ``schema`` shown in a ``<details>`` beside it."""

    def __init__(self, *, schema: dict[str, Any] | None = None, schema_title: str = "JSON schema",
                 attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "ops-json-input", "spellcheck": "false", "autocomplete": "off",
                                "data-testid": "json-editor", **(attrs or {})})
        self.schema = schema
        self.schema_title = schema_title

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        lines = str(value or "").count("\n") + 2
        context["widget"]["attrs"]["rows"] = max(MIN_ROWS, min(MAX_ROWS, lines))
        return context

    def render(self, name, value, attrs=None, renderer=None):
        editor = super().render(name, value, attrs, renderer)
        if not self.schema:
            return format_html('<div class="ops-json-editor">{}</div>', editor)
        return format_html(
            '<div class="ops-json-editor">{}<details class="ops-json-schema" data-testid="json-schema">'
            '<summary>{}</summary><pre>{}</pre></details></div>',
            editor, self.schema_title, json.dumps(self.schema, indent=2, ensure_ascii=False))


class PrettyJSONField(forms.JSONField):
    """``forms.JSONField`` shown indented by two, whose syntax errors say where they are."""

    widget = JSONEditor
    default_error_messages = {"syntax": "Not valid JSON: %(error)s."}

    def to_python(self, value):
        if isinstance(value, str) and not self.disabled and value not in self.empty_values:
            try:
                json.loads(value, cls=self.decoder)
            except json.JSONDecodeError as exc:
                raise ValidationError(self.error_messages["syntax"], code="invalid",
                                      params={"error": f"{exc.msg} (line {exc.lineno}, column {exc.colno})"}) from exc
        return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)
