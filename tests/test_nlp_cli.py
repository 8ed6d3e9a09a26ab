"""`python -m nlp tag` through a real subprocess."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # `python -m nlp` subprocesses

REPO = Path(__file__).resolve().parents[1]


def run(stdin: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp", "tag", *args], input=stdin, cwd=REPO,
                          capture_output=True, timeout=120)


def test_tag_writes_one_line_per_input_in_order_and_reports_bad_lines():
    lines = [
        json.dumps({"id": "a", "text": "亚马逊关闭了5万多家中国卖家的店铺，损失超过1,000多亿元。"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c"}),
        json.dumps(["a list"]),
        "",
        json.dumps({"id": "f", "text": "Amazon suspended 3,000 seller accounts.", "lang": "en"}),
        json.dumps({"text": "no id here"}),
    ]
    proc = run(("\n".join(lines) + "\n").encode("utf-8"))
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert [o["id"] for o in out] == ["a", 2, "c", 4, 5, "f", 7]
    assert [("error" in o) for o in out] == [False, True, True, True, True, False, False]
    assert all("\n" not in o.get("error", "") for o in out)
    first = out[0]
    assert set(first) == {"id", "lang", "relevant", "relevance", "relevance_reasons", "entities", "figures", "keywords"}
    assert first["relevant"] is True
    assert {"type": "platform", "text": "亚马逊", "start": 0, "end": 3, "name": "Amazon"} in first["entities"]
    money = [f for f in first["figures"] if f["kind"] == "money"]
    assert money[0]["value"] == 1e11 and money[0]["currency"] == "CNY" and money[0]["qualifier"] == "over"
    assert out[5]["lang"] == "en" and out[5]["figures"][0]["counted"] == "accounts"


def test_invalid_utf8_does_not_stop_the_stream():
    stdin = b'{"id": 1, "text": "\xff\xfe broken"}\n{"id": 2, "text": "ok"}\n'
    proc = run(stdin)
    assert proc.returncode == 0
    assert [json.loads(line)["id"] for line in proc.stdout.decode().splitlines()] == [1, 2]


def test_empty_stdin_gives_no_output_and_exit_zero():
    proc = run(b"")
    assert proc.returncode == 0 and proc.stdout == b""
    assert b"Building prefix dict" not in proc.stderr  # jieba's loading chatter is quiet by default


def test_unknown_command_exits_2():
    proc = subprocess.run([sys.executable, "-m", "nlp", "frobnicate"], cwd=REPO, capture_output=True, timeout=60)
    assert proc.returncode == 2
