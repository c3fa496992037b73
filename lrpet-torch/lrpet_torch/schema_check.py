"""The part of JSON Schema (draft 2020-12) that run.schema.json uses, checked without third-party packages:
type, const, enum, bounds, string lengths, properties/required/additionalProperties, items, anyOf/oneOf.
Errors name the field ('lrpet.prune'). The tests check the same files with the jsonschema package too.
"""
import copy
import math


class SchemaError(ValueError):
    def __init__(self, path, message):
        self.path = path
        self.field = ".".join(str(p) for p in path)
        super().__init__(message)


def _type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise ValueError(f"schema type {t!r} is not supported")


def _show(value):
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def check(value, schema, path=()):
    """Raises SchemaError at the first field that does not fit."""
    def fail(message):
        raise SchemaError(path, message)

    if "const" in schema and value != schema["const"]:
        fail(f"{_show(value)} is not {_show(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        fail(f"{_show(value)} is not one of {', '.join(_show(v) for v in schema['enum'])}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, t) for t in types):
            fail(f"{_show(value)} is not {' or '.join('an integer' if t == 'integer' else 'an object' if t == 'object' else 'an array' if t == 'array' else 'a ' + t for t in types)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            fail(f"{value} is less than {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            fail(f"{value} is more than {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            fail(f"{value} is not more than {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            fail(f"{value} is not less than {schema['exclusiveMaximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            fail(f"{_show(value)} is shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail(f"{_show(value)} is longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                fail(f"'{key}' is missing" if not path else f"needs '{key}'")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                check(item, props[key], path + (key,))
            elif extra is False:
                raise SchemaError(path + (key,), f"not a setting (the settings there: {', '.join(props)})")
            elif isinstance(extra, dict):
                check(item, extra, path + (key,))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], path + (i,))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            _branch(value, schema[key], path)


def _branch(value, branches, path):
    """The branch the value fits; else the error of the branch it comes closest to (the one whose type and const it matches)."""
    errors = []
    for b in branches:
        try:
            check(value, b, path)
            return b
        except SchemaError as e:
            errors.append((b, e))
    close = [e for b, e in errors if not _kind_mismatch(value, b)]
    raise (close[0] if close else errors[0][1])


def _kind_mismatch(value, branch):
    if "type" in branch:
        types = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
        if not any(_type_ok(value, t) for t in types):
            return True
    if isinstance(value, dict):
        for key, prop in branch.get("properties", {}).items():
            if "const" in prop and key in value and value[key] != prop["const"]:
                return True
    return False


def fill_defaults(value, schema):
    """A copy of a checked value with every missing property that has a default set to it, in the schema's key order."""
    if isinstance(value, dict):
        for key in ("anyOf", "oneOf"):
            if key in schema:
                schema = _branch(value, schema[key], ())
        props = schema.get("properties")
        if not props:
            return copy.deepcopy(value)
        out = {}
        for key, prop in props.items():
            if key in value:
                out[key] = fill_defaults(value[key], prop)
            elif "default" in prop:
                out[key] = copy.deepcopy(prop["default"])
            elif prop.get("type") == "object" and "properties" in prop:
                out[key] = fill_defaults({}, prop)
        return out
    return copy.deepcopy(value)
