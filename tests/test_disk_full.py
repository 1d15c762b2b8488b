"""A full disk: writes fail with a clear error, nothing is half-written, and collection resumes once space returns.

The engine runs in a child process whose file-size limit (RLIMIT_FSIZE) stands in for a full disk: every write
past it fails with EFBIG, exactly as a full disk fails with ENOSPC.
"""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os, resource, signal, sys
    import collection, jobs, settings
    from jobs import Engine
    collection.MAX_PAGES_PER_RUN = 1  # one page per run, so the disk fills mid-import
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write returns an error instead of killing us
    engine = Engine(settings.load(sys.argv[1]))
    first = engine.collect("bulk")
    wal = engine.settings.db_path.with_name(engine.settings.db_path.name + ".wal")
    # room for about one more batch in the write-ahead log (the file itself was checkpointed after the migrations)
    limit = (wal.stat().st_size if wal.exists() else os.path.getsize(engine.settings.db_path)) + 300_000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    full = [engine.collect("bulk") for _ in range(3)]
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    after = [engine.collect("bulk") for _ in range(20)]
    rows = engine.db.reader().execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchall()[0]
    engine.db.close()
    print(json.dumps({"first": first.status, "full": [(r.status, r.error) for r in full],
                      "after": [r.status for r in after], "rows": rows}))
""")


def test_disk_full_is_reported_and_recovered(tmp_path, write_settings):
    rows = [{"post_id": f"p{i}", "text": f"post {i} " + "x" * 2000, "created_at": "2026-11-01T00:00:00Z"}
            for i in range(3000)]
    (tmp_path / "bulk.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    settings = write_settings("""
        [classify]
        enabled = false
        [sources.bulk]
        kind = "replay"
        path = "bulk.jsonl"
        batch_size = 200
    """)
    (tmp_path / "run.py").write_text(SCRIPT)
    out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(settings)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env={"PYTHONPATH": str(__import__("pathlib").Path.cwd())})
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["first"] == "ok", result
    assert all(status == "error" and "Is the disk full?" in error for status, error in result["full"]), result
    assert result["after"][0] == "ok"
    assert result["rows"] == [3000, 3000]  # everything arrived once space returned, nothing twice
