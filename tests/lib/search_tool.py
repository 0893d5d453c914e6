"""The SDK's SearchIndex, driven from a test through sluice_search_tool
(plugins/elasticsearch/tests/search_tool.cpp): the same calls on the embedded index and on an
Elasticsearch / OpenSearch node.

    with SearchTool(env, "listing_index", embedded=data_dir) as idx:      # or hosts=node.url
        idx.call({"op": "index", "id": 42, "doc": {"title": "Used MacbookAir 13\""}})
        idx.search("macbook air", sort="hot", missing=0.1)["hits"]

Each call is one JSON line to the tool and one back; an answer with "error" raises ToolError
(unless the call passes allow_error=True).
"""
import json
import os
import subprocess

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def _listing_index():
    """The index settings (analysis) and mappings of pipelines/listings.yaml's create_index: on a
    server, the analysis of the embedded index (text_analysis.hpp): the standard tokenizer,
    lowercase, asciifolding, for title and description; visits a number."""
    with open(os.path.join(HERE, "..", "..", "pipelines", "listings.yaml")) as f:
        create_index = yaml.safe_load(f)["pipelines"]["listings"]["sinks"][0]["create_index"]
    return {"analysis": create_index["settings"]["analysis"]}, create_index["mappings"]


LISTING_SETTINGS, LISTING_MAPPINGS = _listing_index()
SAMPLE_LISTINGS = os.path.join(HERE, "..", "..", "pipelines", "data", "sample-listings.jsonl")


class ToolError(RuntimeError):
    pass


class SearchTool:
    def __init__(self, env, index, embedded=None, hosts=None):
        self.tool = os.path.join(env.build_dir, "plugins", "elasticsearch", "sluice_search_tool")
        self.args = ["--embedded", embedded] if embedded else ["--hosts", hosts]
        self.index = index
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([self.tool] + self.args + [self.index], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return False

    def call(self, op, allow_error=False):
        self.proc.stdin.write(json.dumps(op) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise ToolError("sluice_search_tool ended (exit %s): %s" % (self.proc.wait(timeout=10),
                                                                       self.proc.stderr.read()[-2000:]))
        answer = json.loads(line)
        if "error" in answer and not allow_error:
            raise ToolError("%s: %s" % (json.dumps(op)[:200], answer["error"]))
        return answer

    def search(self, text, sort="relevance", **options):
        """The answer's total and hits (its took_us, the call's duration, left out)."""
        op = {"op": "search", "text": text, "sort": sort}
        op.update(options)
        answer = self.call(op)
        answer.pop("took_us", None)
        return answer
