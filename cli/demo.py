"""The end-to-end demo behind `make demo`: read letters, rebuild the chain, find what is late, route, draw.

Runs on the embedded defaults: a fresh SQLite file under `out/demo/` and Prefect's ephemeral mode.
The sample letters in `demo/letters/` were written for this project from the facts of the 2020
Business Continuity Plan circulars; when the real OCR'd seed letters sit beside the project
(`../shared/seeds/`), they are ingested too, and merge with the samples where they are the same letters.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from datetime import date, datetime
from pathlib import Path

from models.db import dispose_engines, get_engine, init_db, session_scope
from models.parser import ParseError, parse_file
from models.thai import BANGKOK, format_thai_date
from records import progress, users, views
from records.chain import chain_json
from records.ingest import ingest_files

ROOT = Path(__file__).resolve().parents[1]
PLAN = "bcp-2020"
AS_OF = date(2020, 6, 26)  # four days before the deadline: what an administrator would have seen
DEADLINE_CHECK = date(2020, 7, 1)
# The dashboard's demo account: an administrator of DLA sees every province, district and local body.
DEMO_USER = "demo.dla"


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f"\n{text}" if text else ""), flush=True)


def main(out: Path | None = None) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    out = (out or ROOT / "out" / "demo").resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = out / "saraban.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    started = time.perf_counter()

    files = sorted((ROOT / "demo" / "letters").glob("*.txt"))
    seeds = Path(os.environ.get("SARABAN_SEEDS", ROOT.parent / "shared" / "seeds"))
    files += sorted(seeds.glob("*.txt")) if seeds.is_dir() else []
    _say("1. parse", f"{len(files)} files")
    for path in files:
        try:
            letters = parse_file(path)
        except ParseError as exc:
            print(f"  {exc}")
            continue
        for letter in letters:
            print(
                f"  {path.name}: {letter.number.canonical} of {format_thai_date(letter.date)} ({letter.issuer})"
            )

    engine = get_engine(url)
    init_db(engine)
    _say("2. ingest (one transaction per file; the same letter from two files is one letter)")
    for outcome in ingest_files(files, engine):
        report = outcome.report
        if outcome.error is not None or report is None:
            print(f"  error: {outcome.error}")
            continue
        print(
            f"  {Path(report.file).name}: {report.added} added, {report.merged} merged, {report.unchanged} unchanged"
        )

    with session_scope(engine) as session:
        chain = chain_json(session)
        merged = [(item["number"], item["aliases"]) for item in chain["letters"] if item["aliases"]]
        circular = progress.find_circular(session, "มท 0812/ว 1434")
        progress.set_plan(session, circular, PLAN)
        circular_id = circular.id
    _say(
        "3. the chain",
        f"  {len(chain['letters'])} letters, {len(chain['edges'])} citations, {len(chain['receipts'])} receipts\n"
        + "\n".join(f"  {n} also printed as {', '.join(a)}" for n, a in merged)
        + f"\n  circular {circular_id}, routing plan {PLAN}",
    )

    with session_scope(engine) as session:
        overdue = progress.overdue_report(session, DEADLINE_CHECK, circular_id)
        margins = progress.margins(session, circular_id, "local")
        whatif = progress.whatif_report(session, circular_id, "province:54", date(2020, 5, 19))
    (out / "overdue.json").write_text(json.dumps(overdue, ensure_ascii=False, indent=2), encoding="utf-8")
    late = [i for i in overdue if i["status"] == "late"]
    _say(
        f"4. overdue and late as of {DEADLINE_CHECK} ({len(overdue)} in all, full list in overdue.json)",
        "\n".join(
            f"  LATE {i['agency']}: handed on {i['letter']} on {i['done']}, due {i['due']}, "
            f"{i['days_over']} working days over; escalate to {i['escalate_to']}"
            for i in late
        )
        + f"\n  local bodies: {margins['agencies']} in scope, latest day to send their plan "
        f"{margins['latest_forward']}, margin (slack) min {margins['min_slack']} / median "
        f"{margins['median_slack']} working days, {margins['missing_deadline']} will miss 30 June",
    )
    _say(
        "5. what if Phrae had forwarded on 19 May 2020?",
        f"  {whatif['makes']} downstream agencies would make the deadline, {whatif['misses']} would not",
    )

    _say("6. route the circular as a Prefect flow (ephemeral mode; one task per dispatch)")
    from flows.flag_overdue import flag_overdue
    from flows.route_circular import route_circular

    # The flows take the name of the variable holding the URL, never the URL (Prefect stores parameters).
    os.environ["SARABAN_DATABASE_URL"] = url
    summary = route_circular(circular_id, as_of=AS_OF)
    (out / "route-summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    swept = flag_overdue(at=datetime(AS_OF.year, AS_OF.month, AS_OF.day, 10, 0, tzinfo=BANGKOK))
    _say("7. the scheduled sweep, once", f"  {json.dumps(swept, ensure_ascii=False)}")

    _say("8. diagrams")
    from visualize.diagrams import collapse, drill_down, evidence_diagram, forwarding_diagram
    from visualize.render import render

    with session_scope(engine) as session:
        diagram = views.routing_diagram(session, circular_id, as_of=AS_OF)
    outputs = []
    overview = forwarding_diagram(collapse(diagram, level="province"))
    phrae = forwarding_diagram(drill_down(diagram, province="province:54", ancestors=True))
    evidence = evidence_diagram(drill_down(diagram, province="province:21", ancestors=True))
    for name, graph in (("circular-by-province", overview), ("phrae", phrae), ("evidence-rayong", evidence)):
        for suffix in (".svg", ".png"):
            outputs.append(render(graph, out / f"{name}{suffix}"))
    print("\n".join(f"  {p}" for p in outputs))

    # A fresh password each run, printed once: the record is new every time (`saraban user add`
    # makes others, `saraban user list` shows them, never their passwords).
    password = secrets.token_urlsafe(12)
    with session_scope(engine) as session:
        users.add_user(session, DEMO_USER, password, "administrator", "dla", actor="demo")
    _say(
        "9. a demo account for the dashboard (with a user on record, every page asks to sign in)",
        f"  username {DEMO_USER}\n  password {password}\n"
        "  role     administrator of DLA (กรมส่งเสริมการปกครองท้องถิ่น): every province, district and local body",
    )
    dispose_engines()

    _say(
        f"done in {time.perf_counter() - started:.0f} s. Outputs in {out}",
        f"  database      {db}\n  overdue       {out / 'overdue.json'}\n  route summary {out / 'route-summary.json'}\n"
        f"  look around:  .venv/bin/saraban status --database {url}\n"
        f"                .venv/bin/saraban serve --database-url {url}   (then open http://127.0.0.1:8000"
        f" and sign in as {DEMO_USER})",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
