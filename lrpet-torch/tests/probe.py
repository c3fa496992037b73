"""The trainer's parts, for the tests (src/node/torch-trainer*.test.ts) to hold against the engine's.

  probe.py init SEED OUT_PREFIX MODEL...      the engine's initialisation of each MODEL for the run seed SEED -> OUT_PREFIX-MODEL.safetensors
  probe.py plans CONFIGS.json                 plan_model of each {model, lrpet} (JSON list) -> JSON list
  probe.py files SCHEMA FILE...               each run file as the trainer reads it ("trainer": {"ok": config} or
                                              {"error": message}) and as the jsonschema package checks it against
                                              SCHEMA ("jsonschema": {"ok": true} or {"error": {path, message}})
"""
import json
import sys

from lrpet_torch.config import ConfigFileError, load_run_file


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd in ("init", "plans"):
        from lrpet_torch.initialise import init_like_engine
        from lrpet_torch.models import build_model
        from lrpet_torch.ops import save_state_dict
        from lrpet_torch.plan import PlanError, plan_model
        from lrpet_torch.rng import derive_seed
    if cmd == "init":
        for name in args[2:]:
            model = build_model(name)
            init_like_engine(model, name, derive_seed(int(args[0]), "init"))
            save_state_dict(f"{args[1]}-{name}.safetensors", model.state_dict(), name, "dense")
    elif cmd == "plans":
        out = []
        for c in json.load(open(args[0])):
            try:
                out.append(plan_model(c["model"], c["lrpet"]))
            except PlanError as e:
                out.append({"error": str(e)})
        json.dump(out, sys.stdout)
    elif cmd == "files":
        import jsonschema

        schema = json.load(open(args[0]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        out = {}
        for f in args[1:]:
            try:
                trainer = {"ok": load_run_file(f)}
            except ConfigFileError as e:
                trainer = {"error": str(e)}
            errors = sorted(validator.iter_errors(json.load(open(f))), key=lambda e: len(list(e.absolute_path)))
            checked = {"ok": True} if not errors else {"error": {"path": ".".join(str(p) for p in errors[0].absolute_path), "message": errors[0].message}}
            out[f] = {"trainer": trainer, "jsonschema": checked}
        json.dump(out, sys.stdout)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
