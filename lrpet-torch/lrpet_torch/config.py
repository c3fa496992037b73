"""run.json: a run's settings as the page and `lrpet train --config` write them (src/engine/run-file.ts).

Checked against run.schema.json, which is generated from the engine's settings table (npm run schema),
so both sides accept and reject the same files; missing settings take the engine's defaults, including
the two that depend on another field (the LR schedule and VGG-16's rank floors, as config.ts fills them).
"""
import json
import math
import os

from .schema_check import SchemaError, check, fill_defaults

FORMAT = "lrpet-run-config/1"
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.schema.json")


class ConfigFileError(ValueError):
    pass


def run_schema():
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        return json.load(f)


def paper_schedule(epochs):
    """The paper's step schedule scaled to a run: x0.1 at round(E/2) and round(3E/4) (JavaScript's Math.round: half up)."""
    return {"kind": "step", "milestones": [math.floor(epochs / 2 + 0.5), math.floor(epochs * 3 / 4 + 0.5)], "gamma": 0.1}


def _dependent_defaults(value):
    value = dict(value)
    if "schedule" not in value:
        epochs = value.get("epochs", run_schema()["properties"]["epochs"]["default"])
        value["schedule"] = paper_schedule(epochs)
    lrpet = value.get("lrpet", {})
    if "rankFloors" not in lrpet:
        value["lrpet"] = {**lrpet, "rankFloors": value.get("model") == "vgg16"}
    return value


def parse_run_config(value, name="run.json"):
    """A run.json value (parsed JSON) -> the complete run config (without the format tag). Raises ConfigFileError naming the field."""
    if not isinstance(value, dict):
        raise ConfigFileError(f"{name} is not a JSON object of run settings")
    if value.get("format") == "lrpet-run" and "config" in value:
        raise ConfigFileError(f"{name} is the run.json of an exported run (.lrpet.zip), not a run config; its settings are its 'config' field, or export them from the page as run.json")
    if "format" not in value:
        raise ConfigFileError(f"{name} has no 'format' field: a run config file starts with \"format\": \"{FORMAT}\"")
    if value["format"] != FORMAT:
        raise ConfigFileError(f"{name}, field 'format': {json.dumps(value['format'])} is not a run config format this version reads (\"{FORMAT}\")")
    schema = run_schema()
    try:
        check(value, schema)
    except SchemaError as e:
        raise ConfigFileError(f"{name}, field '{e.field or 'config'}': {e}") from None
    config = fill_defaults(_dependent_defaults({k: v for k, v in value.items() if k != "format"}), schema)
    config.pop("format", None)
    return config


def load_run_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigFileError(f"cannot read {path}: {e.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigFileError(f"{path} is not valid JSON ({e})") from None
    return parse_run_config(value, path)


def run_file_text(config):
    """run.json's text for a complete config: the format tag first, two-space JSON, a final newline."""
    return json.dumps({"format": FORMAT, **config}, indent=2, ensure_ascii=False) + "\n"
