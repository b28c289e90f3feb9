"""Deployment snapshot: names, flows, schedules, parameters and concurrency, as declared.

To accept an intended change: ``python -m tests.flows.test_deployments`` rewrites the
snapshot; review the diff before committing it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "golden" / "deployments.json"


def describe() -> list[dict]:
    from flows.deployments import build_deployments

    out = []
    for d in build_deployments():
        out.append({
            "name": d.name, "flow": d.flow_name, "entrypoint": d.entrypoint,
            "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone,
                           "active": s.active} for s in d.schedules],
            "parameters": d.parameters, "concurrency_limit": d.concurrency_limit,
            "tags": d.tags,
        })
    return out


def test_deployments_match_snapshot():
    assert describe() == json.loads(SNAPSHOT.read_text())


def test_schedules_are_the_products():
    by_name = {d["name"]: d for d in describe()}
    assert by_name["ingest-and-score"]["schedules"][0]["cron"] == "*/15 * * * *"
    assert by_name["nightly-outcomes"]["schedules"][0]["cron"].split()[2:] == ["*", "*", "*"]
    assert by_name["monthly-report"]["schedules"][0]["cron"].split()[2] == "1"
    assert by_name["rescore"]["schedules"] == []
    # every flow writes the one warehouse: never two runs of a deployment at once
    assert all(d["concurrency_limit"] == 1 for d in by_name.values())


def test_parameters_validate_against_the_flows():
    from flows.params import IngestAndScoreParams, MonthlyReportParams, NightlyParams, RescoreParams

    models = {"ingest-and-score": IngestAndScoreParams, "nightly-outcomes": NightlyParams,
              "monthly-report": MonthlyReportParams, "rescore": RescoreParams}
    for d in describe():
        models[d["name"]].model_validate(d["parameters"]["params"])


def test_previous_month():
    from flows.monthly_report import previous_month

    assert previous_month(date(2026, 12, 1)) == "2026-11"
    assert previous_month(date(2027, 1, 1)) == "2026-12"


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(describe(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")


class _Stops:
    """Record the shutdown steps of ``flows.deployments.main`` without starting anything."""

    def __init__(self, monkeypatch) -> None:
        import signal
        from types import SimpleNamespace

        import flows.deployments as dep

        self.calls: list[tuple] = []
        self.server = SimpleNamespace(pid=-1)

        def serve(deployments):
            self.calls.append(("serve", deployments))
            raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, turned into one) while serving

        monkeypatch.setattr(signal, "signal", lambda *a: None)  # leave the test's handlers alone
        monkeypatch.setattr(dep, "build_deployments", lambda: ["d"])
        monkeypatch.setattr(dep, "serve_until_stopped", serve)
        monkeypatch.setattr(dep, "_ignore_stop_signals", lambda: self.calls.append(("ignore",)))
        monkeypatch.setattr(dep, "stop_process_tree", lambda s=None: self.calls.append(("stop", s)))
        monkeypatch.setattr(dep, "start_local_server",
                            lambda home, port: (self.calls.append(("start", port)),
                                                (self.server, None))[1])
        monkeypatch.setattr(dep, "prefect_environment", lambda home, url: {})
        monkeypatch.setattr(dep, "write_profile", lambda home, url: None)
        self.main = dep.main


def test_no_server_stops_the_process_tree_once(monkeypatch, capsys):
    s = _Stops(monkeypatch)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert s.main(["--no-server"]) == 0
    assert s.calls == [("serve", ["d"]), ("ignore",), ("stop", None)]
    assert capsys.readouterr().out.splitlines()[-1] == "stopped"


def test_local_server_is_stopped_after_serving(monkeypatch, capsys, tmp_path):
    import sys
    from types import SimpleNamespace

    import flows.deployments as dep

    s = _Stops(monkeypatch)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    monkeypatch.setattr(dep, "process_settings", lambda: SimpleNamespace(data_dir=tmp_path))
    assert s.main(["--port", "4321"]) == 0
    assert s.calls == [("start", 4321), ("serve", ["d"]), ("ignore",), ("stop", s.server)]
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ["stopping the Prefect server and any flow run still going...", "stopped"]


def test_server_error_is_one_line_and_still_stops(monkeypatch, capsys, tmp_path):
    import sys
    from types import SimpleNamespace

    import flows.deployments as dep
    from flows.server import ServerError

    s = _Stops(monkeypatch)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    monkeypatch.setattr(dep, "process_settings", lambda: SimpleNamespace(data_dir=tmp_path))

    def refuse(home, port):
        raise ServerError("port 4321 is already in use")

    monkeypatch.setattr(dep, "start_local_server", refuse)
    assert s.main(["--port", "4321"]) == 1
    assert s.calls == [("ignore",), ("stop", None)]
    err = capsys.readouterr()
    assert err.err == "error: port 4321 is already in use\n" and "stopped" not in err.out
