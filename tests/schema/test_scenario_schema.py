"""The JSON Schema shipped for editors (scenarios/scenario.schema.json) must
accept every library scenario and reject the mistakes the loader rejects, or
editors would underline good files and let bad ones pass.

Run: /usr/bin/python3 -m unittest -v test_scenario_schema (from this folder).
"""

import json
import pathlib
import unittest

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
LIBRARY = sorted((ROOT / "scenarios" / "library").glob("*.yaml"))
# The loader's test reads the same file (scenarios/scenario_loader_test.cpp).
DURATIONS = ROOT / "scenarios" / "testdata" / "durations.txt"


def duration_examples():
    """(verdict, text) from DURATIONS: accept TEXT MICROSECONDS, reject TEXT..."""
    out = []
    for line in DURATIONS.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        verdict, rest = line.split(" ", 1)
        out.append((verdict, rest.split(" ")[0] if verdict == "accept" else rest))
    return out


def errors(document):
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [e.message for e in validator.iter_errors(document)]


class ScenarioSchemaTest(unittest.TestCase):
    def test_schema_is_a_valid_draft7_schema(self):
        jsonschema.Draft7Validator.check_schema(SCHEMA)

    def test_every_library_scenario_validates(self):
        self.assertGreater(len(LIBRARY), 10)
        for path in LIBRARY:
            with self.subTest(scenario=path.name):
                self.assertEqual(errors(yaml.safe_load(path.read_text())), [])

    def test_typos_and_bad_values_are_caught(self):
        base = {"domains": {"example.net": {"users": ["bob"]}}}
        self.assertEqual(errors(base), [])
        bad = [
            {"domains": {"example.net": {"greylistng": True}}},          # misspelt key
            {"domains": {"example.net": {"dns": "broken"}}},              # not a failure mode
            dict(base, actions=[{"at": "soon", "host_down": "mx.example.net"}]),
            dict(base, actions=[{"at": "1s", "host_down": "a", "host_up": "b"}]),  # two kinds
            dict(base, expect=[{"delivred": "bob@example.net"}]),
            dict(base, expect=[{"reply": 99}]),
            dict(base, send=[{"from": "alice@example.org"}]),              # no 'to'
            {"send": [{"from": "a@b.example", "to": "c@d.example"}]},     # no domains
        ]
        for document in bad:
            with self.subTest(document=document):
                self.assertNotEqual(errors(document), [])

    def test_durations_agree_with_the_loader(self):
        # Each text goes through YAML as an editor would see it: "90" is a
        # number, "1h30m" a string. "too-long" texts fit the grammar; only
        # the loader's range check refuses them, so the schema must accept.
        examples = duration_examples()
        self.assertGreater(len(examples), 20)
        base = {"domains": {"example.net": {"users": ["bob"]}}}
        for verdict, text in examples:
            with self.subTest(verdict=verdict, text=text):
                document = dict(base, max_duration=yaml.safe_load("v: " + text)["v"])
                if verdict == "reject":
                    self.assertNotEqual(errors(document), [])
                else:
                    self.assertEqual(errors(document), [])


if __name__ == "__main__":
    unittest.main()
