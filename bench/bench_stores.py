"""Cost of the dedupe store in Redis (RedisStoryStore) beside the SQLite StoryStore, as the store grows.

Synthetic documents (no jieba: token sets drawn from a vocabulary, one in ``--copy-every`` a
near-duplicate of an earlier one) get MinHash signatures once; then each store assigns the same
sequence. Printed per step of ``--sizes``: milliseconds per ``assign`` for SQLite (the reference,
a file in a temp dir) and Redis (a redis-server started here on a free port, one client over
loopback), and bytes per stored document: Redis ``used_memory`` growth, and beside it the SQLite
files (database + WAL) on disk. Both stores
must give the same story ids; the script says so or exits non-zero.

Run:  .venv/bin/python bench/bench_stores.py [--sizes 1000,10000,30000]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import settings as project  # noqa: E402
from pipelines.dedupe import MinHasher, RedisStoryStore, StoryStore  # noqa: E402
from redisserver import RedisServer  # noqa: E402


def signatures(count: int, copy_every: int, seed: int = 7) -> list[tuple[int, ...]]:
    rng = random.Random(seed)
    hasher = MinHasher(project.DEDUPE_PERMUTATIONS)
    texts: list[list[str]] = []
    result = []
    for n in range(count):
        if texts and n % copy_every == 0:  # a copy of an earlier text with 5 of its 60 tokens replaced
            words = rng.sample(rng.choice(texts), 55) + [f"c{n}-{i}" for i in range(5)]
        else:
            words = [f"w{rng.randrange(200_000)}" for _ in range(60)]
        texts.append(words)
        result.append(hasher.signature(set(words)))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000", help="store sizes to report at (comma-separated)")
    parser.add_argument("--copy-every", type=int, default=5, help="one document in N is a near-duplicate")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"computing {sizes[-1]} signatures ...", flush=True)
    sigs = signatures(sizes[-1], args.copy_every)
    threshold, bands = project.DEDUPE_THRESHOLD, project.DEDUPE_BANDS
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis").start()
        try:
            client = server.client()
            sqlite = StoryStore(Path(tmp) / "stories.sqlite", threshold, bands)
            shared = RedisStoryStore(server.client(), "bench", threshold, bands)
            base_memory = client.info("memory")["used_memory"]
            print(f"{'documents':>10} {'SQLite ms/doc':>14} {'Redis ms/doc':>13} {'SQLite bytes/doc':>17} "
                  f"{'Redis bytes/doc':>16} joined")
            done, joined = 0, 0
            for size in sizes:
                batch = range(done, size)
                start = time.perf_counter()
                expected = [sqlite.assign(f"d{n}", sigs[n]) for n in batch]
                sqlite_ms = (time.perf_counter() - start) * 1000 / len(batch)
                start = time.perf_counter()
                got = [shared.assign(f"d{n}", sigs[n]) for n in batch]
                redis_ms = (time.perf_counter() - start) * 1000 / len(batch)
                if got != expected:
                    print("the stores disagree on story ids", file=sys.stderr)
                    return 1
                joined += sum(j for _, j in got)
                memory = (client.info("memory")["used_memory"] - base_memory) / size
                disk = sum(f.stat().st_size for f in Path(tmp).glob("stories.sqlite*")) / size
                print(f"{size:>10} {sqlite_ms:>14.2f} {redis_ms:>13.2f} {disk:>17.0f} {memory:>16.0f} {joined}",
                      flush=True)
                done = size
            print("both stores gave the same story ids")
            sqlite.close(), shared.close(), client.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
